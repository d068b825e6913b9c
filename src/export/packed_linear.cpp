#include "dartquant/export/packed_linear.h"

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/io/int_packing.h"

namespace dartquant::exporter {
namespace {

/// Shift from our code range to compressed-tensors' signed range: 2^(b−1)
/// for asymmetric codes, 0 for symmetric ones (already signed).
int64_t code_shift(const quant::QuantSpec& spec) { return spec.symmetric ? 0 : int64_t{1} << (spec.bits - 1); }

}  // namespace

std::vector<std::pair<std::string, at::Tensor>> PackedLinear::named(const std::string& module) const {
  std::vector<std::pair<std::string, at::Tensor>> tensors{{module + ".weight_packed", weight_packed},
                                                          {module + ".weight_scale", weight_scale},
                                                          {module + ".weight_shape", weight_shape}};
  if (weight_zero_point.defined()) {
    tensors.emplace_back(module + ".weight_zero_point", weight_zero_point);
  }
  return tensors;
}

int64_t PackedLinear::bytes() const {
  int64_t total = 0;
  for (const auto& tensor : {weight_packed, weight_scale, weight_zero_point, weight_shape}) {
    total += tensor.defined() ? tensor.numel() * static_cast<int64_t>(tensor.element_size()) : 0;
  }
  return total;
}

std::string module_of(const std::string& weight_name) {
  static const std::string kSuffix = ".weight";
  DQ_CHECK(weight_name.size() > kSuffix.size() &&
               weight_name.compare(weight_name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0,
           "tensor name ", weight_name, " does not end in .weight");
  return weight_name.substr(0, weight_name.size() - kSuffix.size());
}

PackedLinear pack_linear(const quant::QuantizedWeight& weight, const quant::QuantSpec& spec, const std::string& name) {
  DQ_CHECK(spec.enabled(), name, ": cannot pack a weight kept at ", spec.bits, " bits");
  const auto& codes = weight.codes;
  DQ_CHECK(codes.defined() && codes.dim() == 2, name, ": expected codes [out, in], got ",
           codes.defined() ? codes.sizes() : at::IntArrayRef{});
  const int64_t out = codes.size(0);
  const int64_t in = codes.size(1);
  const int64_t groups = quant::group_count(in, spec.group_size);
  DQ_CHECK(weight.params.scale.sizes() == at::IntArrayRef({out, groups}), name, ": scale has shape ",
           weight.params.scale.sizes(), ", expected [", out, ", ", groups, "]");

  const int64_t shift = code_shift(spec);
  PackedLinear packed;
  packed.weight_packed = io::pack_codes(codes.to(at::kLong) - shift, spec.bits, name + " codes");
  packed.weight_scale = weight.params.scale.contiguous();
  if (!spec.symmetric) {
    auto zero = weight.params.zero.to(at::kLong) - shift;  // [out, groups]
    packed.weight_zero_point = io::pack_codes(zero.t(), spec.bits, name + " zero points").t().contiguous();
  }
  packed.weight_shape = at::tensor(std::vector<int64_t>{out, in}, at::TensorOptions().dtype(at::kLong));
  return packed;
}

quant::QuantizedWeight unpack_linear(const PackedLinear& packed, const quant::QuantSpec& spec, const std::string& name) {
  DQ_CHECK(packed.weight_shape.defined() && packed.weight_shape.dim() == 1 && packed.weight_shape.numel() == 2 &&
               !at::isFloatingType(packed.weight_shape.scalar_type()),
           name, ".weight_shape: expected 2 integers [out, in]");
  auto shape = packed.weight_shape.to(at::kLong).cpu();
  const int64_t out = shape[0].item<int64_t>();
  const int64_t in = shape[1].item<int64_t>();
  DQ_CHECK(out > 0 && in > 0, name, ".weight_shape: [", out, ", ", in, "] is not a valid weight shape");
  const int64_t groups = quant::group_count(in, spec.group_size);

  DQ_CHECK(packed.weight_packed.defined() && packed.weight_packed.dim() == 2 && packed.weight_packed.size(0) == out,
           name, ".weight_packed: expected ", out, " rows for weight_shape [", out, ", ", in, "]");
  DQ_CHECK(packed.weight_scale.defined() && at::isFloatingType(packed.weight_scale.scalar_type()) &&
               packed.weight_scale.sizes() == at::IntArrayRef({out, groups}),
           name, ".weight_scale: expected a floating [", out, ", ", groups, "] tensor for ", spec.bits,
           "-bit groups of ", spec.group_size == 0 ? in : spec.group_size, " columns, got ",
           packed.weight_scale.defined() ? packed.weight_scale.sizes() : at::IntArrayRef{});
  DQ_CHECK(spec.symmetric == !packed.weight_zero_point.defined(), name,
           spec.symmetric ? ".weight_zero_point: present, but the scheme is symmetric"
                          : ".weight_zero_point: missing, but the scheme is asymmetric");

  const int64_t shift = code_shift(spec);
  quant::QuantizedWeight weight;
  weight.codes = io::unpack_codes(packed.weight_packed, spec.bits, in, name + ".weight_packed") + shift;
  weight.params.scale = packed.weight_scale;
  if (spec.symmetric) {
    weight.params.zero = at::zeros_like(packed.weight_scale);
  } else {
    const auto& zero_point = packed.weight_zero_point;
    DQ_CHECK(zero_point.dim() == 2 && zero_point.size(1) == groups, name, ".weight_zero_point: expected [",
             io::packed_words(out, spec.bits), ", ", groups, "], got ", zero_point.sizes());
    auto zero = io::unpack_codes(zero_point.t().contiguous(), spec.bits, out, name + ".weight_zero_point").t() + shift;
    weight.params.zero = zero.to(packed.weight_scale.scalar_type());
  }
  return weight;
}

at::Tensor dequantize_linear(const PackedLinear& packed, const quant::QuantSpec& spec, at::ScalarType dtype,
                             const std::string& name) {
  auto weight = unpack_linear(packed, spec, name);
  return quant::dequantize_codes(weight.codes, weight.params, spec).to(dtype);
}

}  // namespace dartquant::exporter
