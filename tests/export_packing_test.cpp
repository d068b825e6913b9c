// Packing of integer codes and of quantized Linears in the compressed-tensors
// pack-quantized layout: round trips at odd widths and group sizes, asymmetric
// zero points, every scale dtype, and the bit layout itself.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/core/error.h"
#include "dartquant/export/packed_linear.h"
#include "dartquant/io/int_packing.h"
#include "dartquant/quant/gptq.h"
#include "dartquant/quant/hessian.h"
#include "dartquant/quant/weight_quantizer.h"

namespace dartquant {
namespace {

at::Tensor random_codes(int64_t rows, int64_t columns, int bits, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  int64_t low = -(int64_t{1} << (bits - 1));
  return at::randint(low, -low, {rows, columns}, generator, at::TensorOptions().dtype(at::kInt));
}

TEST(IntPacking, FourBitRowMatchesTheCompressedTensorsLayout) {
  // compressed-tensors 0.20.1 packs the row −8..7 as 0x76543210 0xFEDCBA98:
  // element k in word k/8 at bits 4(k mod 8), each value plus 8.
  auto codes = at::arange(-8, 8, at::TensorOptions().dtype(at::kInt)).reshape({1, 16});
  auto packed = io::pack_codes(codes, 4, "row");
  ASSERT_EQ(packed.sizes(), at::IntArrayRef({1, 2}));
  EXPECT_EQ(static_cast<uint32_t>(packed[0][0].item<int32_t>()), 0x76543210u);
  EXPECT_EQ(static_cast<uint32_t>(packed[0][1].item<int32_t>()), 0xFEDCBA98u);
}

TEST(IntPacking, ThreeBitValuesStraddleWords) {
  // 11 values of 3 bits fill 33 bits: the 11th starts at bit 30 of word 0.
  auto codes = at::full({1, 11}, 3, at::TensorOptions().dtype(at::kInt));  // stored as 7 = 0b111
  auto packed = io::pack_codes(codes, 3, "row");
  ASSERT_EQ(packed.size(1), 2);
  EXPECT_EQ(static_cast<uint32_t>(packed[0][0].item<int32_t>()), 0xFFFFFFFFu);
  EXPECT_EQ(packed[0][1].item<int32_t>(), 1);
}

TEST(IntPacking, RoundTripsEveryWidthAndOddColumnCounts) {
  for (int bits = 1; bits <= 8; ++bits) {
    for (int64_t columns : {1, 3, 7, 8, 13, 31, 64, 100}) {
      SCOPED_TRACE(::testing::Message() << bits << " bits, " << columns << " columns");
      auto codes = random_codes(5, columns, bits, static_cast<uint64_t>(bits * 1000 + columns));
      auto packed = io::pack_codes(codes, bits, "codes");
      EXPECT_EQ(packed.size(1), io::packed_words(columns, bits));
      EXPECT_TRUE(at::equal(io::unpack_codes(packed, bits, columns, "codes"), codes));
    }
  }
}

TEST(IntPacking, RejectsCodesOutsideTheRangeAndWrongWordCounts) {
  auto codes = at::tensor(std::vector<int32_t>{8}).reshape({1, 1});
  EXPECT_THROW(io::pack_codes(codes, 4, "codes"), Error);
  auto packed = io::pack_codes(at::zeros({2, 9}, at::kInt), 4, "codes");
  EXPECT_THROW(io::unpack_codes(packed, 4, 17, "codes"), Error);
  EXPECT_THROW(io::unpack_codes(packed.to(at::kLong), 4, 9, "codes"), Error);
}

struct LinearCase {
  bool symmetric;
  int64_t group_size;
  int bits;
  at::ScalarType scale_dtype;
};

TEST(PackedLinear, RoundTripsCodesScalesAndZeroPoints) {
  const std::vector<LinearCase> cases{
      {true, 0, 4, at::kFloat},   {false, 0, 4, at::kFloat},   {true, 16, 4, at::kHalf},  {false, 24, 4, at::kBFloat16},
      {false, 7, 3, at::kFloat},  {true, 32, 8, at::kBFloat16}, {false, 0, 2, at::kHalf}, {true, 100, 4, at::kFloat},
  };
  auto generator = at::detail::createCPUGenerator(7);
  auto weight = at::randn({37, 100}, generator, at::TensorOptions().dtype(at::kFloat));
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "symmetric " << c.symmetric << ", group " << c.group_size << ", " << c.bits
                                    << " bits, scales " << c.scale_dtype);
    quant::WeightQuantOptions options;
    options.spec.bits = c.bits;
    options.spec.symmetric = c.symmetric;
    options.spec.group_size = c.group_size;
    auto quantized = quant::quantize_weight_rtn(weight, options);
    quantized.params.scale = quantized.params.scale.to(c.scale_dtype);
    quantized.params.zero = quantized.params.zero.to(c.scale_dtype);

    auto packed = exporter::pack_linear(quantized, options.spec, "w");
    EXPECT_EQ(packed.weight_zero_point.defined(), !c.symmetric);
    EXPECT_EQ(packed.weight_shape.scalar_type(), at::kLong);
    auto unpacked = exporter::unpack_linear(packed, options.spec, "w");
    EXPECT_TRUE(at::equal(unpacked.codes, quantized.codes));
    EXPECT_TRUE(at::equal(unpacked.params.scale, quantized.params.scale));
    EXPECT_TRUE(at::equal(unpacked.params.zero, quantized.params.zero));

    auto expected = quant::dequantize_codes(quantized.codes, quantized.params, options.spec).to(at::kFloat);
    EXPECT_TRUE(at::equal(exporter::dequantize_linear(packed, options.spec, at::kFloat, "w"), expected));
  }
}

TEST(PackedLinear, ZeroPointsArePackedAlongTheOutputDimension) {
  quant::WeightQuantOptions options;
  options.spec.symmetric = false;
  options.spec.group_size = 50;
  auto generator = at::detail::createCPUGenerator(3);
  auto quantized = quant::quantize_weight_rtn(at::randn({16, 100}, generator), options);
  auto packed = exporter::pack_linear(quantized, options.spec, "w");
  // 16 output rows of 4-bit zero points: 2 words per group column.
  EXPECT_EQ(packed.weight_zero_point.sizes(), at::IntArrayRef({2, 2}));
  EXPECT_EQ(packed.weight_packed.sizes(), at::IntArrayRef({16, 13}));
}

TEST(PackedLinear, RejectsInconsistentTensors) {
  quant::WeightQuantOptions options;
  auto quantized = quant::quantize_weight_rtn(at::randn({8, 16}), options);
  auto packed = exporter::pack_linear(quantized, options.spec, "w");

  auto wrong_scale = packed;
  wrong_scale.weight_scale = wrong_scale.weight_scale.narrow(0, 0, 4);
  EXPECT_THROW(exporter::unpack_linear(wrong_scale, options.spec, "w"), Error);
  auto wrong_shape = packed;
  wrong_shape.weight_shape = at::tensor(std::vector<int64_t>{8, 40});
  EXPECT_THROW(exporter::unpack_linear(wrong_shape, options.spec, "w"), Error);
  auto asymmetric = options.spec;
  asymmetric.symmetric = false;
  EXPECT_THROW(exporter::unpack_linear(packed, asymmetric, "w"), Error);
}

TEST(PackedLinear, QuantizersReturnExactlyTheDequantizedCodes) {
  // The in-process model uses QuantizedWeight::dequantized, and a reloaded one
  // uses dequantize_codes of the stored codes. They must agree bit for bit.
  auto generator = at::detail::createCPUGenerator(11);
  auto weight = at::randn({24, 64}, generator);
  auto inputs = at::randn({256, 64}, generator);
  for (bool symmetric : {true, false}) {
    quant::WeightQuantOptions options;
    options.spec.symmetric = symmetric;
    options.spec.group_size = 16;
    auto rtn = quant::quantize_weight_rtn(weight, options);
    EXPECT_TRUE(at::equal(rtn.dequantized, quant::dequantize_codes(rtn.codes, rtn.params, options.spec)));

    quant::HessianAccumulator hessian(64);
    hessian.add(inputs);
    auto gptq = quant::gptq_quantize(weight, hessian.hessian(), options, quant::GptqOptions{}, "w");
    EXPECT_TRUE(at::equal(gptq.weight.dequantized,
                          quant::dequantize_codes(gptq.weight.codes, gptq.weight.params, options.spec)));
  }
}

}  // namespace
}  // namespace dartquant
