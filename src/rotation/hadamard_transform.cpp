// Applying M_n = (H_K ⊗ H_{2^j}) / √n to rows without forming the dense matrix.
#include <cmath>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/rotation/hadamard.h"
#include "hadamard_constructions.h"

namespace dartquant::rotation {
namespace {

// Unnormalized fast Walsh–Hadamard transform of x [rows, p] along the last
// dimension, p a power of two: returns x·H_p with H_p in Sylvester's natural
// order. Each pass applies the butterfly (u, v) -> (u + v, u − v) to the index
// pairs that differ in one bit, which is H_2 acting on that bit.
at::Tensor walsh_hadamard_transform(at::Tensor x, int64_t p) {
  for (int64_t half = 1; half < p; half *= 2) {
    const at::Tensor pairs = x.view({x.size(0), p / (2 * half), 2, half});
    const at::Tensor low = pairs.select(2, 0);
    const at::Tensor high = pairs.select(2, 1);
    x = at::stack({low + high, low - high}, 2).view({x.size(0), p});
  }
  return x;
}

}  // namespace

at::Tensor apply_hadamard(const at::Tensor& x, int64_t n, bool transpose) {
  DQ_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == n, "apply_hadamard: the last dimension of x must be n=", n,
           ", got shape ", x.defined() ? x.sizes() : at::IntArrayRef{});
  DQ_CHECK(at::isFloatingType(x.scalar_type()), "apply_hadamard needs a floating-point x, got ",
           c10::toString(x.scalar_type()));
  const HadamardPlan plan = plan_hadamard(n);

  // Block-diagonal fallback: every block of b consecutive values is transformed alone.
  if (plan.base == HadamardConstruction::kBlockDiagonal) {
    const int64_t b = plan.base_order;
    return apply_hadamard(x.reshape({-1, b}), b, transpose).reshape(x.sizes());
  }

  // Row vector x viewed as X [K, 2^j] (index a·2^j + b): x·(H_K ⊗ H_P) is
  // H_Kᵀ·X·H_P, and x·(H_K ⊗ H_P)ᵀ is H_K·X·H_P because H_P is symmetric.
  const int64_t k = plan.base_order;
  const int64_t p = plan.power_of_two;
  at::Tensor rows = x.reshape({-1, p}).contiguous();
  if (p > 1) {
    rows = walsh_hadamard_transform(rows, p);
  }
  at::Tensor blocks = rows.view({-1, k, p});
  if (k > 1) {
    const at::Tensor factor = hadamard_factor(plan).to(x.options());
    blocks = at::matmul(transpose ? factor : factor.t(), blocks);
  }
  return (blocks * (1.0 / std::sqrt(static_cast<double>(n)))).reshape(x.sizes());
}

}  // namespace dartquant::rotation
