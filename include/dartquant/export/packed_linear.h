// One quantized Linear in the compressed-tensors "pack-quantized" layout, and
// the way back to its dense weight.
//
// Tensors, named <module>.<field> (module = the weight's name without ".weight"):
//   weight_packed      int32 [out, ceil(in·bits / 32)]   codes, see io/int_packing.h
//   weight_scale       [out, groups] in the scale dtype
//   weight_zero_point  int32 [ceil(out·bits / 32), groups], asymmetric only: zero
//                      points packed like the codes but along the output dimension
//   weight_shape       int64 [2] = [out, in]
// Codes and zero points are stored in the signed range [−2^(b−1), 2^(b−1) − 1]
// as compressed-tensors defines them. Our asymmetric codes are unsigned
// [0, 2^b − 1], so both codes and zero points are shifted by 2^(b−1). The
// difference q − z, and so the dequantized weight (q − z)·scale, is unchanged.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/quant/quantizer.h"
#include "dartquant/quant/weight_quantizer.h"

namespace dartquant::exporter {

struct PackedLinear {
  at::Tensor weight_packed;
  at::Tensor weight_scale;
  at::Tensor weight_zero_point;  ///< undefined for symmetric quantization
  at::Tensor weight_shape;

  /// The tensors under their checkpoint names for module `module`.
  std::vector<std::pair<std::string, at::Tensor>> named(const std::string& module) const;

  /// Bytes of all tensors.
  int64_t bytes() const;
};

/// The module name of a weight: "model.layers.0.mlp.down_proj.weight" ->
/// "model.layers.0.mlp.down_proj".
std::string module_of(const std::string& weight_name);

/// Packs `weight` (codes and parameters from RTN or GPTQ) quantized with
/// `spec`; the scale keeps its dtype. Throws dartquant::Error naming `name`
/// for a parameter shape that does not fit the codes.
PackedLinear pack_linear(const quant::QuantizedWeight& weight, const quant::QuantSpec& spec, const std::string& name);

/// Unpacks codes and parameters: the inverse of pack_linear, with the
/// parameters in the stored scale dtype. Checks every shape against
/// weight_shape and `spec`; throws dartquant::Error naming `name`.
quant::QuantizedWeight unpack_linear(const PackedLinear& packed, const quant::QuantSpec& spec, const std::string& name);

/// The dense weight (q − z)·scale, computed in the scale dtype as
/// compressed-tensors does, then converted to `dtype`.
at::Tensor dequantize_linear(const PackedLinear& packed, const quant::QuantSpec& spec, at::ScalarType dtype,
                             const std::string& name);

}  // namespace dartquant::exporter
