// GPTQ weight quantization (Frantar et al., "GPTQ: Accurate Post-Training
// Quantization for Generative Pre-trained Transformers", 2022), without
// act-order: columns are quantized left to right and the error of each column
// is spread over the columns not yet quantized through the upper Cholesky
// factor of H⁻¹.
#pragma once

#include <string>

#include <ATen/ATen.h>

#include "dartquant/quant/hessian.h"
#include "dartquant/quant/weight_quantizer.h"

namespace dartquant::quant {

/// GPTQ settings.
struct GptqOptions {
  double damp_fraction = 0.1;   ///< damping added to diag H, as a fraction of mean(diag H)
  int64_t block_size = 128;     ///< columns per lazy batch update
  int max_damping_retries = 6;  ///< extra attempts, each with 10× the damping, when Cholesky fails
};

/// Throws dartquant::Error naming `what` when a field is out of range.
void validate(const GptqOptions& options, const std::string& what);

/// Output of gptq_quantize.
struct GptqResult {
  QuantizedWeight weight;
  /// Σ over all rows and columns of (w − q)²/d², with d the diagonal of the
  /// Cholesky factor of H⁻¹ (the GPTQ paper's per-column error). GPTQ's
  /// reference code logs half of this value. For progress logs only.
  double loss = 0.0;
  double damping_used = 0.0;  ///< absolute damping added to diag H in the attempt that succeeded
};

/// Quantizes `weight` [out, in] with the Hessian `hessian` [in, in] of its
/// inputs (from HessianAccumulator). Computes on the weight's device in
/// float32, or in float64 when either input is float64. The dequantized
/// weight of the result has the input weight's dtype.
///
/// Steps:
///  1. Dead columns (H_ii = 0) get H_ii = 1 and zero weights.
///  2. damp_fraction·mean(diag H) is added to the diagonal, and U is the upper
///     Cholesky factor of H⁻¹.
///  3. Columns are quantized in blocks of block_size, with lazy updates of the
///     later blocks. A group's parameters are fitted, with the MSE search when
///     enabled, to the group's current (error-updated) weights when its first
///     column is reached.
///
/// When Cholesky fails, the damping is retried with 10× the fraction (a zero
/// fraction restarts at 0.01) up to max_damping_retries times, with a warning
/// naming `name`. Throws dartquant::Error naming `name` on NaN or Inf in H or
/// in the result, a negative diagonal in H, or when every retry fails.
GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const WeightQuantOptions& options,
                         const GptqOptions& gptq, const std::string& name);

}  // namespace dartquant::quant
