// Hadamard matrices built by construction (Sylvester, Paley I/II, Williamson)
// for any size the models need, their normalized and randomized forms, and a
// fast transform that applies them without forming the dense matrix.
//
// A size n is factored as n = K·2^j and built as H_n = H_K ⊗ H_{2^j}, the
// K-order factor outside, so row i = a·2^j + b of H_n is H_K[a, :] ⊗ H_{2^j}[b, :].
// K is the smallest order with a Paley construction (K = 1 for powers of two,
// Paley I preferred over Paley II), Williamson matrices are used only where no
// Paley order fits, and a size with neither gets a block-diagonal matrix of
// the largest constructible order b dividing n, with a warning.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

namespace dartquant::rotation {

/// Construction of the K-order factor of a Hadamard matrix.
enum class HadamardConstruction {
  kSylvester,      ///< H_{2^k} = H_2^{⊗k} (Sylvester 1867), used alone for powers of two (K = 1)
  kPaleyI,         ///< order q+1, prime power q ≡ 3 (mod 4) (Paley 1933)
  kPaleyII,        ///< order 2(q+1), prime power q ≡ 1 (mod 4) (Paley 1933)
  kWilliamson,     ///< order 4m from four symmetric circulant blocks (Williamson 1944)
  kBlockDiagonal,  ///< fallback: equal diagonal blocks of a constructible order b dividing n
};

/// Name used in logs and plan descriptions ("Sylvester", "Paley I", ...).
std::string construction_name(HadamardConstruction construction);

/// Recipe for a Hadamard matrix of order `size`.
///
/// For every construction except kBlockDiagonal, size = base_order · power_of_two
/// and H = H_K ⊗ H_{2^j}. For kBlockDiagonal, H is block-diagonal with
/// size / base_order equal blocks, each built as `block` describes, and
/// power_of_two is 1.
struct HadamardPlan {
  int64_t size = 1;                                        ///< n
  int64_t base_order = 1;                                  ///< K (1 for powers of two), or the block order b of the fallback
  HadamardConstruction base = HadamardConstruction::kSylvester;  ///< construction of the K-order factor
  int64_t power_of_two = 1;                                ///< 2^j, the order of the Sylvester factor
  int64_t parameter = 0;                                   ///< q for Paley I/II, m for Williamson, 0 otherwise
  std::shared_ptr<const HadamardPlan> block;               ///< plan of each diagonal block (kBlockDiagonal only), else null

  /// Human-readable plan, e.g. "28 (Paley I, q=27) x 512 (Sylvester)" or
  /// "1340 = 67 blocks of 20 (Paley I, q=19) (block-diagonal fallback)".
  std::string describe() const;
};

/// Factors n (n >= 1) by the rule in this header's introduction. The fallback
/// logs one spdlog warning per size and process, naming the size and the block
/// order. Williamson blocks come from a deterministic, bounded search that is
/// cached per order (under a millisecond for m = 43).
///
/// NOTE: the search covers odd m <= 4095 and only rows constant on the orbits
/// of a multiplier group with at most 12 non-zero orbits. A size whose
/// Williamson matrices lie outside that space falls back (no model size does).
HadamardPlan plan_hadamard(int64_t n);

/// The integer Hadamard matrix H of order n: [n, n], int8, CPU, with H·Hᵀ = n·I.
/// int8 keeps large orders compact (14336² entries take 205 MB), so convert to
/// int64 or float64 before multiplying. For the fallback, H is block-diagonal
/// with blocks H_b, zero elsewhere, and H·Hᵀ = b·I.
at::Tensor hadamard_matrix(int64_t n);

/// The orthogonal matrix M_n = (H_K ⊗ H_{2^j}) / √n, or for the fallback the
/// block-diagonal matrix with blocks H_b / √b: [n, n], floating `dtype`, CPU.
/// Computed in float64 and cast once.
at::Tensor normalized_hadamard(int64_t n, at::ScalarType dtype = at::kDouble);

/// n i.i.d. random signs (±1) as a [n] tensor of floating `dtype` on the CPU.
/// Sign i is the top bit of the i-th output of std::mt19937_64 seeded with
/// `seed` (set means -1), so the sequence is the same on every platform and
/// standard library.
at::Tensor random_signs(int64_t n, uint64_t seed, at::ScalarType dtype = at::kDouble);

/// The randomized Hadamard matrix diag(s)·M_n with s = random_signs(n, seed):
/// [n, n], floating `dtype`, CPU, orthogonal. Same seed, same matrix (bitwise).
at::Tensor random_hadamard(int64_t n, uint64_t seed, at::ScalarType dtype = at::kDouble);

/// Checks exactly that h ([n, n], integer or floating dtype, any device) is
/// block-diagonal with n / block blocks H_b of order `block` whose entries are
/// all ±1, with H_b·H_bᵀ = block·I, and is zero outside the blocks. Pass
/// block = n to check a full Hadamard matrix (H·Hᵀ = n·I). The products run in
/// float64, which is exact here because every partial sum is an integer of
/// magnitude at most `block` < 2^53. Throws Error when h is not square or
/// `block` does not divide n.
bool verify_hadamard(const at::Tensor& h, int64_t block);

/// Multiplies the rows of x by M_n = normalized_hadamard(n) without forming
/// it: returns x·M_n, or x·M_nᵀ when `transpose` is true. x is [..., n] of a
/// floating dtype on any device; the result has x's shape, dtype and device.
/// Costs O(n log n + n·K) per row: a fast Walsh–Hadamard transform over the
/// 2^j factor and a dense K×K product over the other. The fallback applies
/// each diagonal block independently. Matches the dense product to the
/// rounding of x's dtype.
at::Tensor apply_hadamard(const at::Tensor& x, int64_t n, bool transpose = false);

}  // namespace dartquant::rotation
