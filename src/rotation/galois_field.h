// Finite fields GF(p^k) and their quadratic character, as the Paley
// constructions need them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dartquant::rotation {

/// q = prime^exponent.
struct PrimePower {
  int64_t prime = 0;
  int64_t exponent = 0;
};

/// Returns the factorization of q when q is a prime power (q >= 2), else nullopt.
std::optional<PrimePower> prime_power(int64_t q);

/// The field GF(p^k) in the polynomial basis over GF(p), modulo the first monic
/// irreducible polynomial of degree k in the order of its integer encoding.
///
/// An element c_0 + c_1·x + ... + c_{k-1}·x^{k-1} (0 <= c_i < p) is encoded as
/// the integer c_0 + c_1·p + ... + c_{k-1}·p^{k-1}, so the elements are
/// 0 .. q-1, 0 is the zero and 1 the unit. For k = 1 this is arithmetic mod p.
class GaloisField {
 public:
  /// Throws Error when k < 1 or p is not a prime.
  GaloisField(int64_t p, int64_t k);

  int64_t characteristic() const { return p_; }
  int64_t degree() const { return k_; }
  int64_t order() const { return q_; }

  /// Coefficients c_0 .. c_{k-1} of the irreducible modulus (its leading 1 omitted).
  const std::vector<int64_t>& modulus() const { return modulus_; }

  int64_t subtract(int64_t a, int64_t b) const;
  int64_t multiply(int64_t a, int64_t b) const;

  /// χ(a) for every element a, indexed by its encoding: 0 for a = 0, 1 for a
  /// non-zero square, -1 otherwise.
  std::vector<int8_t> quadratic_character() const;

 private:
  std::vector<int64_t> digits(int64_t a) const;
  int64_t encode(const std::vector<int64_t>& digits) const;

  int64_t p_;
  int64_t k_;
  int64_t q_;
  std::vector<int64_t> modulus_;
};

}  // namespace dartquant::rotation
