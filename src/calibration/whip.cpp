#include "dartquant/calibration/whip.h"

#include <tuple>

#include <ATen/ATen.h>

namespace dartquant::calibration {

at::Tensor qr_orth(const at::Tensor& z) { return std::get<0>(at::linalg_qr(z, "reduced")); }

at::Tensor whip_loss(const at::Tensor& y) { return at::exp(-at::abs(y)).sum() / static_cast<double>(y.size(0)); }

at::Tensor whip_gradient(const at::Tensor& y) { return -at::sign(y) * at::exp(-at::abs(y)); }

}  // namespace dartquant::calibration
