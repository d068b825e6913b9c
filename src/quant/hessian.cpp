#include "dartquant/quant/hessian.h"

#include "dartquant/core/error.h"

namespace dartquant::quant {

HessianAccumulator::HessianAccumulator(int64_t in_features, at::ScalarType dtype, at::Device device)
    : in_features_(in_features) {
  DQ_CHECK(in_features > 0, "HessianAccumulator: in_features must be positive, got ", in_features);
  DQ_CHECK(at::isFloatingType(dtype), "HessianAccumulator: dtype must be floating, got ", dtype);
  sum_ = at::zeros({in_features, in_features}, at::TensorOptions().dtype(dtype).device(device));
}

void HessianAccumulator::add(const at::Tensor& x) {
  DQ_CHECK(x.dim() >= 1 && x.size(-1) == in_features_, "HessianAccumulator: expected inputs [..., ",
           in_features_, "], got ", x.sizes());
  DQ_CHECK(at::isFloatingType(x.scalar_type()), "HessianAccumulator: expected floating inputs, got ",
           x.scalar_type());
  const int64_t rows = x.numel() / in_features_;
  if (rows == 0) {
    return;
  }

  at::Tensor flat = x.reshape({rows, in_features_}).to(sum_.device(), sum_.scalar_type());
  sum_.addmm_(flat.t(), flat);
  samples_ += rows;
}

at::Tensor HessianAccumulator::hessian() const {
  DQ_CHECK(samples_ > 0, "HessianAccumulator: no calibration inputs were added, so the Hessian is undefined");
  return sum_ * (2.0 / static_cast<double>(samples_));
}

}  // namespace dartquant::quant
