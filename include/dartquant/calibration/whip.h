// The Whip loss and QR-Orth of DartQuant (Shao et al., NeurIPS 2025,
// arXiv 2511.04063; METHOD.md section 5).
//
// Whip(y) = Σ_i exp(−|y_i|) for one rotated token y = x·R. Under a
// norm-preserving map it is smallest when no coordinate sits near zero, which
// flattens the per-token distribution toward uniform and shrinks outliers.
// QR-Orth keeps R orthogonal by optimizing an unconstrained latent Z and using
// R = Q of Z's QR decomposition.
#pragma once

#include <ATen/core/Tensor.h>

namespace dartquant::calibration {

/// R = Q of the reduced QR decomposition of `z` [..., n, n], batched over the
/// leading dimensions, differentiable (no sign normalization).
at::Tensor qr_orth(const at::Tensor& z);

/// Mean over the `tokens` rows of y [tokens, width] of Σ_i exp(−|y_i|): a
/// scalar, differentiable with autograd.
at::Tensor whip_loss(const at::Tensor& y);

/// dWhip/dy for the summed (not averaged) loss: −sign(y)·exp(−|y|), with 0 at
/// y = 0 (the subgradient autograd's abs uses).
at::Tensor whip_gradient(const at::Tensor& y);

}  // namespace dartquant::calibration
