// Uniform integer quantization: parameters, codes and fake quantization.
//
// Tensors are [rows, width] with groups along the last dimension. A row is one
// token (activations, K, V) or one output channel (weights). Formulas follow
// QuaRot (Ashkboos et al. 2024) and GPTQ (Frantar et al. 2022):
//   symmetric:  scale = max|x|·c / (2^(b-1) − 1),  q = clamp(round(x/scale), −2^(b-1), 2^(b-1) − 1)
//   asymmetric: scale = (max(x,0) − min(x,0))·c / (2^b − 1),  zero = round(−min(x,0)·c / scale),
//               q = clamp(round(x/scale) + zero, 0, 2^b − 1)
//   dequantized value = (q − zero)·scale
// where c is the clip ratio. Rounding is half-to-even (at::round). A group whose
// range is zero gets scale 1 (symmetric) or the range [−1, 1] (asymmetric), so
// it quantizes to exact zeros instead of NaN.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/ATen.h>

namespace dartquant::quant {

/// Settings of one uniform quantizer.
struct QuantSpec {
  int bits = 4;                ///< 2..8; 16 or more disables quantization
  bool symmetric = true;       ///< symmetric signed codes, else asymmetric with a zero point
  int64_t group_size = 0;      ///< columns per group; 0: one group over the whole last dimension
  double clip_ratio = 1.0;     ///< c in (0, 1]: the range is multiplied by it before the scale is computed

  /// False for 16 bits or more, where every quantizer is the identity.
  bool enabled() const { return bits < 16; }
};

/// Throws dartquant::Error naming `what` when a field of `spec` is out of range:
/// bits not in 2..8 and below 16, negative group size, clip ratio outside (0, 1].
void validate(const QuantSpec& spec, const std::string& what);

/// Smallest code: −2^(b−1) for symmetric, 0 for asymmetric.
int64_t min_code(const QuantSpec& spec);

/// Largest code: 2^(b−1) − 1 for symmetric, 2^b − 1 for asymmetric.
int64_t max_code(const QuantSpec& spec);

/// Number of groups in a row of `width` columns: ceil(width / group_size), or 1
/// when group_size is 0. The last group is shorter when group_size does not
/// divide width (the GPTQ convention).
int64_t group_count(int64_t width, int64_t group_size);

/// Per-group quantization parameters, each [rows, groups] in the computation
/// dtype (float32, or float64 for float64 inputs). `zero` is all zeros for
/// symmetric quantizers and contains integral values for asymmetric ones.
struct QuantParams {
  at::Tensor scale;
  at::Tensor zero;
};

/// Computes min/max parameters per row and group of `x` [rows, width] (any
/// floating dtype; half types are computed in float32). Requires spec.enabled().
QuantParams compute_params(const at::Tensor& x, const QuantSpec& spec);

/// Computes parameters from a per-row range: `range_min` ≤ 0 ≤ `range_max`, both
/// [n] in the computation dtype, already multiplied by the clip ratio. Zero
/// ranges are guarded as described at the top of this file. Returns [n] tensors.
QuantParams params_from_range(const at::Tensor& range_min, const at::Tensor& range_max, const QuantSpec& spec);

/// Quantizes `x` [rows, width] with `params` [rows, groups]; returns int32 codes
/// [rows, width] in [min_code, max_code].
at::Tensor quantize_codes(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec);

/// Maps int32 codes [rows, width] back to (codes − zero)·scale [rows, width] in
/// the dtype of `params.scale`.
at::Tensor dequantize_codes(const at::Tensor& codes, const QuantParams& params, const QuantSpec& spec);

/// Quantizes and dequantizes `x` [rows, width] with given `params` in one pass,
/// in the dtype of `params.scale`. Same values as dequantize_codes(quantize_codes(...)).
at::Tensor quantize_dequantize(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec);

/// Dynamic fake quantization of `x` [..., width]: parameters come from `x`
/// itself per row (all leading dimensions flattened) and group. Returns a
/// tensor of the same shape and dtype; returns `x` unchanged when
/// !spec.enabled(). Empty inputs are returned as they are.
at::Tensor fake_quantize(const at::Tensor& x, const QuantSpec& spec);

}  // namespace dartquant::quant
