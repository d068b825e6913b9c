#include "dartquant/model/norm.h"

#include <ATen/ATen.h>

namespace dartquant::model {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  auto dtype = x.scalar_type();
  auto wide = dtype == at::kDouble ? x : x.to(at::kFloat);
  auto normalized = (wide * at::rsqrt(wide.pow(2).mean(-1, /*keepdim=*/true) + eps)).to(dtype);
  if (!weight.defined()) {
    return normalized;
  }
  return normalized * weight.to(dtype);
}

}  // namespace dartquant::model
