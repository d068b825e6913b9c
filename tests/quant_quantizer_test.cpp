// Uniform quantizers against values worked out by hand. Inputs are mostly
// multiples of powers of two so scales, codes and ties are exact in float64.
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/core/error.h"
#include "dartquant/quant/quantizer.h"

namespace dartquant::quant {
namespace {

at::Tensor row(const std::vector<double>& values) {
  return at::tensor(values, at::kDouble).view({1, static_cast<int64_t>(values.size())});
}

at::Tensor rows(const std::vector<std::vector<double>>& values) {
  std::vector<at::Tensor> list;
  for (const auto& r : values) {
    list.push_back(row(r));
  }
  return at::cat(list, 0);
}

std::vector<int> codes_of(const at::Tensor& codes) {
  EXPECT_EQ(codes.scalar_type(), at::kInt);
  at::Tensor flat = codes.contiguous().view(-1);
  return std::vector<int>(flat.data_ptr<int>(), flat.data_ptr<int>() + flat.numel());
}

std::vector<double> values_of(const at::Tensor& x) {
  at::Tensor flat = x.to(at::kDouble).contiguous().view(-1);
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

void expect_values_near(const at::Tensor& actual, const std::vector<double>& expected, double tolerance) {
  std::vector<double> values = values_of(actual);
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(values[i], expected[i], tolerance) << "at index " << i;
  }
}

QuantSpec spec(int bits, bool symmetric, int64_t group_size = 0, double clip_ratio = 1.0) {
  QuantSpec s;
  s.bits = bits;
  s.symmetric = symmetric;
  s.group_size = group_size;
  s.clip_ratio = clip_ratio;
  return s;
}

TEST(QuantSymmetric, FourBitCodesAndScale) {
  // max|x| = 1.75 so scale = 1.75 / 7 = 0.25; x/scale = 3.5, −7, 1.75, 0.5, 2.5, −1.5.
  at::Tensor x = row({0.875, -1.75, 0.4375, 0.125, 0.625, -0.375});
  QuantSpec s = spec(4, true);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.sizes(), at::IntArrayRef({1, 1}));
  EXPECT_EQ(params.scale.item<double>(), 0.25);
  EXPECT_EQ(params.zero.item<double>(), 0.0);
  at::Tensor codes = quantize_codes(x, params, s);
  EXPECT_EQ(codes_of(codes), (std::vector<int>{4, -7, 2, 0, 2, -2}));
  expect_values_near(dequantize_codes(codes, params, s), {1.0, -1.75, 0.5, 0.0, 0.5, -0.5}, 0.0);
  expect_values_near(fake_quantize(x, s), {1.0, -1.75, 0.5, 0.0, 0.5, -0.5}, 0.0);
}

TEST(QuantSymmetric, ThreeBitCodes) {
  // 3 bits: codes −4..3, scale = 0.75 / 3 = 0.25; x/scale = 3, −1.5, 0.5, −3.
  at::Tensor x = row({0.75, -0.375, 0.125, -0.75});
  QuantSpec s = spec(3, true);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.item<double>(), 0.25);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{3, -2, 0, -3}));
  expect_values_near(fake_quantize(x, s), {0.75, -0.5, 0.0, -0.75}, 0.0);
}

TEST(QuantSymmetric, TiesRoundHalfToEven) {
  // max|x| = 7 gives scale 1, so every x/scale below is an exact tie.
  at::Tensor x = row({7.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5});
  QuantSpec s = spec(4, true);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.item<double>(), 1.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{7, 0, 2, 2, 0, -2, -2, 4}));
}

TEST(QuantSymmetric, ClipRatioClampsAtBothEnds) {
  // c = 0.9: scale = 2·0.9/7. 2/scale = 7.78 → 8 → clamped to 7; −1/scale = −3.89 → −4;
  // 0.5/scale = 1.94 → 2. In the second row −2/scale = −7.78 → −8, the extra negative code.
  at::Tensor x = rows({{2.0, -1.0, 0.5}, {-2.0, 1.0, 0.0}});
  QuantSpec s = spec(4, true, 0, 0.9);
  QuantParams params = compute_params(x, s);
  const double scale = 2.0 * 0.9 / 7.0;

  expect_values_near(params.scale, {scale, scale}, 1e-15);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{7, -4, 2, -8, 4, 0}));
  expect_values_near(fake_quantize(x, s), {7 * scale, -4 * scale, 2 * scale, -8 * scale, 4 * scale, 0.0}, 1e-14);
}

TEST(QuantAsymmetric, FourBitCodesAndZeroPoint) {
  // Range [−0.25, 3.5]: scale = 3.75/15 = 0.25, zero = round(0.25/0.25) = 1.
  // x/scale = −1, 14, 1.5, 4.5, 0, 8, 0.5 → round → +1 → 0, 15, 3, 5, 1, 9, 1.
  at::Tensor x = row({-0.25, 3.5, 0.375, 1.125, 0.0, 2.0, 0.125});
  QuantSpec s = spec(4, false);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.item<double>(), 0.25);
  EXPECT_EQ(params.zero.item<double>(), 1.0);
  at::Tensor codes = quantize_codes(x, params, s);
  EXPECT_EQ(codes_of(codes), (std::vector<int>{0, 15, 3, 5, 1, 9, 1}));
  expect_values_near(dequantize_codes(codes, params, s), {-0.25, 3.5, 0.5, 1.0, 0.0, 2.0, 0.0}, 0.0);
}

TEST(QuantAsymmetric, ThreeBitCodes) {
  // 3 bits: codes 0..7. Range [−1, 0.75]: scale = 1.75/7 = 0.25, zero = 4.
  // x/scale = −4, 3, 2, −1.5 → −4, 3, 2, −2 → +4 → 0, 7, 6, 2.
  at::Tensor x = row({-1.0, 0.75, 0.5, -0.375});
  QuantSpec s = spec(3, false);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.item<double>(), 0.25);
  EXPECT_EQ(params.zero.item<double>(), 4.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{0, 7, 6, 2}));
  expect_values_near(fake_quantize(x, s), {-1.0, 0.75, 0.5, -0.5}, 0.0);
}

TEST(QuantAsymmetric, ClipRatioNinetyFivePercent) {
  // c = 0.95: range [−0.95, 2.85], scale = 3.8/15, zero = round(0.95/scale) = round(3.75) = 4.
  // −1/scale = −3.95 → −4 → 0; 3/scale = 11.84 → 12 → 16 → clamped to 15.
  at::Tensor x = row({-1.0, 3.0});
  QuantSpec s = spec(4, false, 0, 0.95);
  QuantParams params = compute_params(x, s);
  const double scale = 3.8 / 15.0;

  EXPECT_NEAR(params.scale.item<double>(), scale, 1e-15);
  EXPECT_EQ(params.zero.item<double>(), 4.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{0, 15}));
  expect_values_near(fake_quantize(x, s), {-4 * scale, 11 * scale}, 1e-14);
}

TEST(QuantAsymmetric, ClipRatioNinetyPercent) {
  // c = 0.9: range [−0.45, 1.35], scale = 1.8/15 = 0.12, zero = round(0.45/0.12) = round(3.75) = 4.
  // x/scale = −4.17, 12.5 (not exact in binary), 2.08 → −4, 12 or 13, 2 → +4 → 0, 16/17 → 15, 6.
  at::Tensor x = row({-0.5, 1.5, 0.25});
  QuantSpec s = spec(4, false, 0, 0.9);
  QuantParams params = compute_params(x, s);
  const double scale = 1.8 / 15.0;

  EXPECT_NEAR(params.scale.item<double>(), scale, 1e-15);
  EXPECT_EQ(params.zero.item<double>(), 4.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{0, 15, 6}));
}

TEST(QuantAsymmetric, NegativeOnlyRowIncludesZero) {
  // Range [−3.75, 0]: scale 0.25, zero 15. x/scale = −15, −4, −0.5 → −15, −4, 0 (tie to even) → 0, 11, 15.
  at::Tensor x = row({-3.75, -1.0, -0.125});
  QuantSpec s = spec(4, false);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.item<double>(), 0.25);
  EXPECT_EQ(params.zero.item<double>(), 15.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{0, 11, 15}));
  expect_values_near(fake_quantize(x, s), {-3.75, -1.0, 0.0}, 0.0);
}

TEST(QuantAsymmetric, PositiveOnlyRowIncludesZero) {
  // Range [0, 3.75]: scale 0.25, zero 0. x/scale = 15, 4, 0.5 → 15, 4, 0.
  at::Tensor x = row({3.75, 1.0, 0.125});
  QuantSpec s = spec(4, false);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.item<double>(), 0.25);
  EXPECT_EQ(params.zero.item<double>(), 0.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{15, 4, 0}));
  expect_values_near(fake_quantize(x, s), {3.75, 1.0, 0.0}, 0.0);
}

TEST(QuantZeroRange, ZeroRowsGiveExactZeros) {
  at::Tensor x = rows({{0.0, 0.0, 0.0, 0.0}, {0.5, -0.25, 0.0, 1.75}});
  for (bool symmetric : {true, false}) {
    SCOPED_TRACE(symmetric ? "symmetric" : "asymmetric");
    QuantSpec s = spec(4, symmetric);
    QuantParams params = compute_params(x, s);
    EXPECT_TRUE(at::isfinite(params.scale).all().item<bool>());
    EXPECT_TRUE(at::isfinite(params.zero).all().item<bool>());
    EXPECT_GT(params.scale[0][0].item<double>(), 0.0);

    at::Tensor restored = fake_quantize(x, s);
    EXPECT_FALSE(at::isnan(restored).any().item<bool>());
    expect_values_near(restored[0], {0.0, 0.0, 0.0, 0.0}, 0.0);
  }

  // Float32 and a whole zero tensor as well.
  at::Tensor zeros = at::zeros({3, 8}, at::kFloat);
  EXPECT_TRUE(at::equal(fake_quantize(zeros, spec(4, false, 4)), zeros));
  EXPECT_TRUE(at::equal(fake_quantize(zeros, spec(4, true)), zeros));
}

TEST(QuantZeroRange, AsymmetricZeroRowUsesUnitRange) {
  // A zero range becomes [−1, 1]: scale 2/15, zero = round(7.5) = 8, every code 8.
  at::Tensor x = row({0.0, 0.0});
  QuantSpec s = spec(4, false);
  QuantParams params = compute_params(x, s);

  EXPECT_NEAR(params.scale.item<double>(), 2.0 / 15.0, 1e-16);
  EXPECT_EQ(params.zero.item<double>(), 8.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{8, 8}));
}

TEST(QuantConstantRows, RestoreTheConstant) {
  // Symmetric: scale = 0.5/7 so each value maps to code 7. Asymmetric: a
  // negative constant gives range [−2, 0], zero 15 and code 0; a positive one code 15.
  at::Tensor x = rows({{0.5, 0.5, 0.5}, {-2.0, -2.0, -2.0}, {3.0, 3.0, 3.0}});

  QuantSpec symmetric = spec(4, true);
  EXPECT_EQ(codes_of(quantize_codes(x, compute_params(x, symmetric), symmetric)),
            (std::vector<int>{7, 7, 7, -7, -7, -7, 7, 7, 7}));
  expect_values_near(fake_quantize(x, symmetric), {0.5, 0.5, 0.5, -2.0, -2.0, -2.0, 3.0, 3.0, 3.0}, 1e-15);

  QuantSpec asymmetric = spec(4, false);
  QuantParams params = compute_params(x, asymmetric);
  expect_values_near(params.zero, {0.0, 15.0, 0.0}, 0.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, asymmetric)), (std::vector<int>{15, 15, 15, 0, 0, 0, 15, 15, 15}));
  expect_values_near(fake_quantize(x, asymmetric), {0.5, 0.5, 0.5, -2.0, -2.0, -2.0, 3.0, 3.0, 3.0}, 1e-15);
}

TEST(QuantGroups, GroupsThatDivideTheWidth) {
  // Two groups of 4: max 1.75 → scale 0.25; max 3.5 → scale 0.5.
  at::Tensor x = row({0.875, -1.75, 0.25, 0.5, 3.5, -0.5, 1.0, 0.0});
  QuantSpec s = spec(4, true, 4);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(params.scale.sizes(), at::IntArrayRef({1, 2}));
  expect_values_near(params.scale, {0.25, 0.5}, 0.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{4, -7, 1, 2, 7, -1, 2, 0}));
  expect_values_near(fake_quantize(x, s), {1.0, -1.75, 0.25, 0.5, 3.5, -0.5, 1.0, 0.0}, 0.0);
}

TEST(QuantGroups, ShorterLastGroupHasItsOwnScale) {
  // Width 8 in groups of 3: [0, 3), [3, 6) and the shorter [6, 8).
  // Scales 1.75/7 = 0.25, 3.5/7 = 0.5 and 0.75/7; −0.25/(0.75/7) = −2.33 → −2.
  at::Tensor x = rows({{0.875, -1.75, 0.25, 3.5, -0.5, 1.0, 0.75, -0.25},
                       {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.5, 0.5}});
  QuantSpec s = spec(4, true, 3);
  QuantParams params = compute_params(x, s);

  EXPECT_EQ(group_count(8, 3), 3);
  EXPECT_EQ(params.scale.sizes(), at::IntArrayRef({2, 3}));
  expect_values_near(params.scale, {0.25, 0.5, 0.75 / 7, 1.0, 1.0, 1.5 / 7}, 1e-16);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)),
            (std::vector<int>{4, -7, 1, 7, -1, 2, 7, -2, 0, 0, 0, 0, 0, 0, -7, 2}));
  expect_values_near(fake_quantize(x, s),
                     {1.0, -1.75, 0.25, 3.5, -0.5, 1.0, 0.75, -2 * 0.75 / 7, 0, 0, 0, 0, 0, 0, -1.5, 2 * 1.5 / 7},
                     1e-15);
}

TEST(QuantGroups, AsymmetricPerHeadGroups) {
  // Two heads of 3 with their own zero points: [−0.25, 3.5] → scale 0.25, zero 1;
  // [0, 7.5] → scale 0.5, zero 0.
  at::Tensor x = row({-0.25, 3.5, 1.0, 7.5, 2.0, 0.25});
  QuantSpec s = spec(4, false, 3);
  QuantParams params = compute_params(x, s);

  expect_values_near(params.scale, {0.25, 0.5}, 0.0);
  expect_values_near(params.zero, {1.0, 0.0}, 0.0);
  EXPECT_EQ(codes_of(quantize_codes(x, params, s)), (std::vector<int>{0, 15, 5, 15, 4, 0}));
}

TEST(QuantGroups, GroupCountRoundsUp) {
  EXPECT_EQ(group_count(10944, 128), 86);
  EXPECT_EQ(group_count(688, 128), 6);
  EXPECT_EQ(group_count(224, 128), 2);
  EXPECT_EQ(group_count(88, 128), 1);
  EXPECT_EQ(group_count(1368, 128), 11);
  EXPECT_EQ(group_count(4096, 128), 32);
  EXPECT_EQ(group_count(4096, 0), 1);
  EXPECT_EQ(group_count(0, 128), 0);
}

TEST(QuantFake, FlattensLeadingDimensionsAndKeepsDtype) {
  // [2, 2, 4]: four rows, each with its own scale (max 1.75, 3.5, 0.875, 7 over 7).
  at::Tensor x = at::tensor({0.875, -1.75, 0.25, 0.5, 3.5, -0.5, 1.0, 0.0, 0.875, 0.125, 0.0, -0.25, 7.0, 2.5, 0.5,
                             -1.5},
                            at::kDouble)
                     .view({2, 2, 4});
  at::Tensor restored = fake_quantize(x, spec(4, true));
  EXPECT_EQ(restored.sizes(), x.sizes());
  EXPECT_EQ(restored.scalar_type(), at::kDouble);
  expect_values_near(restored,
                     {1.0, -1.75, 0.25, 0.5, 3.5, -0.5, 1.0, 0.0, 0.875, 0.125, 0.0, -0.25, 7.0, 2.0, 0.0, -2.0}, 0.0);

  // Half types are computed in float32 and returned in their own dtype.
  at::Tensor bf16 = x.to(at::kBFloat16);
  at::Tensor restored_bf16 = fake_quantize(bf16, spec(4, true));
  EXPECT_EQ(restored_bf16.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(restored_bf16.to(at::kDouble), restored));
}

TEST(QuantFake, DisabledAndEmptyInputsPassThrough) {
  at::Tensor x = at::randn({3, 5});
  EXPECT_TRUE(fake_quantize(x, spec(16, true)).is_same(x));
  at::Tensor empty = at::zeros({0, 5});
  EXPECT_EQ(fake_quantize(empty, spec(4, false)).sizes(), empty.sizes());
}

TEST(QuantFake, FloatMatchesDoubleOnExactInputs) {
  at::Tensor x = row({-0.25, 3.5, 0.375, 1.125, 0.0, 2.0, 0.125});
  at::Tensor restored = fake_quantize(x.to(at::kFloat), spec(4, false));
  EXPECT_EQ(restored.scalar_type(), at::kFloat);
  expect_values_near(restored, {-0.25, 3.5, 0.5, 1.0, 0.0, 2.0, 0.0}, 0.0);
}

TEST(QuantCodes, RangeLimits) {
  EXPECT_EQ(min_code(spec(4, true)), -8);
  EXPECT_EQ(max_code(spec(4, true)), 7);
  EXPECT_EQ(min_code(spec(4, false)), 0);
  EXPECT_EQ(max_code(spec(4, false)), 15);
  EXPECT_EQ(min_code(spec(3, true)), -4);
  EXPECT_EQ(max_code(spec(3, true)), 3);
  EXPECT_EQ(max_code(spec(3, false)), 7);
  EXPECT_EQ(max_code(spec(8, false)), 255);
}

TEST(QuantValidation, RejectsInvalidSpecs) {
  at::Tensor x = row({1.0, -1.0});
  EXPECT_THROW(compute_params(x, spec(9, true)), Error);
  EXPECT_THROW(compute_params(x, spec(1, true)), Error);
  EXPECT_THROW(compute_params(x, spec(4, true, -1)), Error);
  EXPECT_THROW(compute_params(x, spec(4, true, 0, 0.0)), Error);
  EXPECT_THROW(compute_params(x, spec(4, true, 0, 1.5)), Error);
  EXPECT_THROW(compute_params(x, spec(16, true)), Error);
  EXPECT_THROW(compute_params(at::ones({2, 2, 2}), spec(4, true)), Error);

  try {
    validate(spec(12, true), "activations");
    ADD_FAILURE() << "bits 12 accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("activations"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("12"), std::string::npos) << error.what();
  }
}

TEST(QuantCodes, RejectsParamsOfTheWrongShape) {
  at::Tensor x = row({1.0, -1.0, 0.5, 0.25});
  QuantSpec s = spec(4, true, 2);
  QuantParams params = compute_params(x, spec(4, true));  // one group, but s has two
  EXPECT_THROW(quantize_codes(x, params, s), Error);
}

}  // namespace
}  // namespace dartquant::quant
