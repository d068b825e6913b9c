// Round-to-nearest weight quantization with the MSE clip search of GPTQ and
// QuaRot: per row and group, try the shrink factors 1.00, 0.99, ..., 0.21 of
// the clipped range and keep the one with the smallest Σ|Q(w) − w|^2.4.
#pragma once

#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "dartquant/quant/quantizer.h"

namespace dartquant::quant {

/// Weight quantizer settings.
struct WeightQuantOptions {
  QuantSpec spec;            ///< bits, symmetry, group size along the input columns, clip ratio
  bool mse_clip = true;      ///< search the shrink factor per row and group
  double mse_norm = 2.4;     ///< exponent p of the search error Σ|Q(w) − w|^p
  double shrink_min = 0.21;  ///< smallest shrink factor tried
  double shrink_step = 0.01; ///< distance between consecutive shrink factors
};

/// Throws dartquant::Error naming `what` when a field is out of range.
void validate(const WeightQuantOptions& options, const std::string& what);

/// Shrink factors of the MSE search, largest first: 1, 1 − step, ... down to
/// shrink_min (80 factors for the defaults). A factor within 1e-9 of shrink_min
/// is included.
std::vector<double> shrink_candidates(const WeightQuantOptions& options);

/// A quantized weight matrix.
struct QuantizedWeight {
  at::Tensor dequantized;  ///< [out, in], dtype of the input weight
  at::Tensor codes;        ///< [out, in] int32
  QuantParams params;      ///< [out, groups], float32 (float64 for float64 weights)
};

/// Fits parameters to `w` [rows, width] (one group's columns or full rows)
/// with options.spec's grouping, running the MSE search when options.mse_clip
/// is set. Returns [rows, groups] in the computation dtype. Ties keep the larger
/// shrink factor. Requires options.spec.enabled().
QuantParams fit_weight_params(const at::Tensor& w, const WeightQuantOptions& options);

/// Round-to-nearest quantization of `weight` [out, in] (any floating dtype, any
/// device). Requires options.spec.enabled(): a layer kept at 16 bits is not
/// passed here.
QuantizedWeight quantize_weight_rtn(const at::Tensor& weight, const WeightQuantOptions& options);

}  // namespace dartquant::quant
