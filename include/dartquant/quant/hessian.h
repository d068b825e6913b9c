// Running GPTQ Hessian H = (2/N)·Σ xᵀx over the calibration inputs of one Linear.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>

namespace dartquant::quant {

/// Accumulates Σ xᵀx over input rows and returns H = (2/N)·Σ xᵀx, N the number
/// of rows (tokens). The raw sum is kept and scaled only in hessian(), so the
/// result is the batch formula over all rows at once, up to the summation
/// order of the matrix products.
class HessianAccumulator {
 public:
  /// Creates an empty accumulator for a Linear with `in_features` inputs. The
  /// sum is stored as an [in_features, in_features] tensor of `dtype` on `device`.
  explicit HessianAccumulator(int64_t in_features, at::ScalarType dtype = at::kFloat, at::Device device = at::kCPU);

  /// Adds the rows of `x` [..., in_features], with any leading dimensions. Any
  /// floating dtype and device is accepted and converted to the accumulator's.
  /// Empty inputs add nothing.
  void add(const at::Tensor& x);

  /// H = (2/N)·Σ xᵀx, [in_features, in_features]. Throws dartquant::Error when
  /// no rows were added, because an all-zero H would mark every column dead.
  at::Tensor hessian() const;

  /// Rows added so far (tokens).
  int64_t samples() const { return samples_; }

  int64_t in_features() const { return in_features_; }

 private:
  int64_t in_features_;
  at::Tensor sum_;  // Σ xᵀx, [in_features, in_features]
  int64_t samples_ = 0;
};

}  // namespace dartquant::quant
