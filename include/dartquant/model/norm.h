// RMSNorm as in Hugging Face Llama: x / sqrt(mean(x²) + eps), then scaled by
// the weight when one is given (folded norms have none).
#pragma once

#include <ATen/core/Tensor.h>

namespace dartquant::model {

/// x: [..., hidden] in the compute dtype. The statistics are computed in at
/// least float32; `weight` may be undefined (weight-free norm).
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace dartquant::model
