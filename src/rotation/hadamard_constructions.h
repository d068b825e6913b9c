// The individual Hadamard constructions. Each returns an int8 [order, order]
// CPU tensor with entries ±1.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/rotation/hadamard.h"

namespace dartquant::rotation {

/// H_n for n a power of two (Sylvester 1867): H[i][j] = (-1)^popcount(i & j).
at::Tensor sylvester_matrix(int64_t n);

/// The K-order factor H_K of a plan that is not block-diagonal, cached per K
/// for the process. Shared with the cache, so callers must not modify it.
at::Tensor hadamard_factor(const HadamardPlan& plan);

/// Order q + 1 for a prime power q ≡ 3 (mod 4) (Paley 1933).
at::Tensor paley_i_matrix(int64_t q);

/// Order 2(q + 1) for a prime power q ≡ 1 (mod 4) (Paley 1933).
at::Tensor paley_ii_matrix(int64_t q);

/// First rows of four symmetric circulant ±1 matrices A, B, C, D of order m
/// with A² + B² + C² + D² = 4m·I.
using WilliamsonBlocks = std::array<std::vector<int8_t>, 4>;

/// Searches deterministically for Williamson blocks of odd order m >= 1 and
/// caches the result per m. Returns nullopt when the bounded search finds none,
/// which does not prove that none exist.
std::optional<WilliamsonBlocks> find_williamson_blocks(int64_t m);

/// Order 4m from the blocks (Williamson 1944).
at::Tensor williamson_matrix(const WilliamsonBlocks& blocks);

}  // namespace dartquant::rotation
