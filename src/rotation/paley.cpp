// Paley's two constructions (R. E. A. C. Paley, "On orthogonal matrices",
// J. Math. Phys. 12, 1933) from the Jacobsthal matrix Q[a][b] = χ(a − b) of
// GF(q), whose elements are ordered by their integer encoding 0 .. q-1.
#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "galois_field.h"
#include "hadamard_constructions.h"

namespace dartquant::rotation {
namespace {

// Q as a flat row-major q×q array. Q has zero diagonal and zero row sums,
// Q·Qᵀ = q·I − J, and Qᵀ = χ(−1)·Q.
std::vector<int8_t> jacobsthal_matrix(int64_t q) {
  const auto factors = prime_power(q);
  DQ_CHECK(factors.has_value(), "Paley construction needs a prime power q, got q=", q);
  const GaloisField field(factors->prime, factors->exponent);
  const auto chi = field.quadratic_character();

  std::vector<int8_t> jacobsthal(static_cast<size_t>(q * q));
  for (int64_t a = 0; a < q; ++a) {
    for (int64_t b = 0; b < q; ++b) {
      jacobsthal[static_cast<size_t>(a * q + b)] = chi[static_cast<size_t>(field.subtract(a, b))];
    }
  }
  return jacobsthal;
}

}  // namespace

at::Tensor paley_i_matrix(int64_t q) {
  DQ_CHECK(q % 4 == 3, "Paley I needs q ≡ 3 (mod 4), got q=", q);
  const auto jacobsthal = jacobsthal_matrix(q);

  // H = I + S with the skew matrix S = [[0, 1ᵀ], [−1, Q]]: S·Sᵀ = q·I and
  // Sᵀ = −S, so H·Hᵀ = I + S·Sᵀ = (q + 1)·I.
  const int64_t order = q + 1;
  at::Tensor h = at::empty({order, order}, at::kChar);
  auto* out = h.data_ptr<int8_t>();
  out[0] = 1;
  for (int64_t j = 1; j < order; ++j) {
    out[j] = 1;
    out[j * order] = -1;
  }
  for (int64_t a = 0; a < q; ++a) {
    for (int64_t b = 0; b < q; ++b) {
      const int8_t identity = a == b ? 1 : 0;
      out[(a + 1) * order + (b + 1)] = static_cast<int8_t>(jacobsthal[static_cast<size_t>(a * q + b)] + identity);
    }
  }
  return h;
}

at::Tensor paley_ii_matrix(int64_t q) {
  DQ_CHECK(q % 4 == 1, "Paley II needs q ≡ 1 (mod 4), got q=", q);
  const auto jacobsthal = jacobsthal_matrix(q);

  // The symmetric conference matrix S = [[0, 1ᵀ], [1, Q]] has S² = q·I and a
  // zero diagonal. H = S ⊗ [[1, −1], [−1, −1]] + I ⊗ [[1, 1], [1, −1]] has
  // ±1 entries, and the cross terms cancel because the product of the two
  // 2×2 patterns is antisymmetric, so H·Hᵀ = 2(q + 1)·I.
  const int64_t conference_order = q + 1;
  auto conference = [&](int64_t row, int64_t column) -> int8_t {
    if (row == 0 || column == 0) {
      return row == column ? 0 : 1;
    }
    return jacobsthal[static_cast<size_t>((row - 1) * q + (column - 1))];
  };
  constexpr int8_t kOffDiagonal[2][2] = {{1, -1}, {-1, -1}};
  constexpr int8_t kDiagonal[2][2] = {{1, 1}, {1, -1}};

  const int64_t order = 2 * conference_order;
  at::Tensor h = at::empty({order, order}, at::kChar);
  auto* out = h.data_ptr<int8_t>();
  for (int64_t row = 0; row < conference_order; ++row) {
    for (int64_t column = 0; column < conference_order; ++column) {
      const int8_t s = conference(row, column);
      for (int u = 0; u < 2; ++u) {
        for (int v = 0; v < 2; ++v) {
          const int8_t value = row == column ? kDiagonal[u][v] : static_cast<int8_t>(s * kOffDiagonal[u][v]);
          out[(2 * row + u) * order + (2 * column + v)] = value;
        }
      }
    }
  }
  return h;
}

}  // namespace dartquant::rotation
