#include "galois_field.h"

#include "dartquant/core/error.h"

namespace dartquant::rotation {
namespace {

bool is_prime(int64_t n) {
  if (n < 2) {
    return false;
  }
  for (int64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

int64_t integer_power(int64_t base, int64_t exponent) {
  int64_t result = 1;
  for (int64_t i = 0; i < exponent; ++i) {
    result *= base;
  }
  return result;
}

// Remainder of `dividend` modulo the monic `divisor` over GF(p); both hold
// coefficients from low to high degree, the divisor's leading 1 included.
std::vector<int64_t> polynomial_remainder(std::vector<int64_t> dividend, const std::vector<int64_t>& divisor,
                                          int64_t p) {
  const size_t divisor_degree = divisor.size() - 1;
  while (dividend.size() > divisor_degree) {
    const int64_t lead = dividend.back();
    const size_t shift = dividend.size() - 1 - divisor_degree;
    for (size_t i = 0; i <= divisor_degree; ++i) {
      dividend[shift + i] = ((dividend[shift + i] - lead * divisor[i]) % p + p) % p;
    }
    dividend.pop_back();
  }
  return dividend;
}

// Monic polynomial of `degree` whose lower coefficients are the base-p digits
// of `index`.
std::vector<int64_t> monic_polynomial(int64_t index, int64_t degree, int64_t p) {
  std::vector<int64_t> coefficients(static_cast<size_t>(degree) + 1, 0);
  for (int64_t i = 0; i < degree; ++i) {
    coefficients[static_cast<size_t>(i)] = index % p;
    index /= p;
  }
  coefficients.back() = 1;
  return coefficients;
}

// A polynomial of degree k is irreducible iff no monic polynomial of degree
// 1 .. k/2 divides it; trial division is cheap for the field orders a
// Hadamard matrix can use (p^{k/2} candidates at most per degree).
bool is_irreducible(const std::vector<int64_t>& polynomial, int64_t p) {
  const int64_t degree = static_cast<int64_t>(polynomial.size()) - 1;
  for (int64_t d = 1; 2 * d <= degree; ++d) {
    const int64_t count = integer_power(p, d);
    for (int64_t index = 0; index < count; ++index) {
      auto remainder = polynomial_remainder(polynomial, monic_polynomial(index, d, p), p);
      bool zero = true;
      for (int64_t c : remainder) {
        zero = zero && c == 0;
      }
      if (zero) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::optional<PrimePower> prime_power(int64_t q) {
  if (q < 2) {
    return std::nullopt;
  }

  // The smallest divisor above 1 is the only possible prime.
  int64_t prime = q;
  for (int64_t d = 2; d * d <= q; ++d) {
    if (q % d == 0) {
      prime = d;
      break;
    }
  }

  int64_t exponent = 0;
  while (q % prime == 0) {
    q /= prime;
    ++exponent;
  }
  if (q != 1) {
    return std::nullopt;
  }
  return PrimePower{prime, exponent};
}

GaloisField::GaloisField(int64_t p, int64_t k) : p_(p), k_(k), q_(integer_power(p, k)) {
  DQ_CHECK(is_prime(p), "GF(p^k) needs a prime characteristic, got p=", p);
  DQ_CHECK(k >= 1, "GF(p^k) needs degree k >= 1, got k=", k);

  // The first irreducible monic polynomial in the order of its encoding, so
  // the field (and every Jacobsthal matrix built on it) is reproducible.
  for (int64_t index = 0; index < q_; ++index) {
    auto candidate = monic_polynomial(index, k_, p_);
    if (is_irreducible(candidate, p_)) {
      candidate.pop_back();
      modulus_ = candidate;
      return;
    }
  }
  throw Error(str("no irreducible polynomial of degree ", k, " over GF(", p, ") found"));
}

std::vector<int64_t> GaloisField::digits(int64_t a) const {
  std::vector<int64_t> result(static_cast<size_t>(k_), 0);
  for (int64_t i = 0; i < k_; ++i) {
    result[static_cast<size_t>(i)] = a % p_;
    a /= p_;
  }
  return result;
}

int64_t GaloisField::encode(const std::vector<int64_t>& digits) const {
  int64_t result = 0;
  for (size_t i = digits.size(); i-- > 0;) {
    result = result * p_ + digits[i];
  }
  return result;
}

int64_t GaloisField::subtract(int64_t a, int64_t b) const {
  if (k_ == 1) {
    return ((a - b) % p_ + p_) % p_;
  }
  int64_t result = 0;
  int64_t place = 1;
  for (int64_t i = 0; i < k_; ++i) {
    const int64_t digit = ((a % p_) - (b % p_) + p_) % p_;
    result += digit * place;
    place *= p_;
    a /= p_;
    b /= p_;
  }
  return result;
}

int64_t GaloisField::multiply(int64_t a, int64_t b) const {
  if (k_ == 1) {
    return a * b % p_;
  }

  // Schoolbook product of the two polynomials, then reduction by the modulus.
  const auto x = digits(a);
  const auto y = digits(b);
  std::vector<int64_t> product(static_cast<size_t>(2 * k_ - 1), 0);
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = 0; j < y.size(); ++j) {
      product[i + j] = (product[i + j] + x[i] * y[j]) % p_;
    }
  }
  std::vector<int64_t> modulus = modulus_;
  modulus.push_back(1);
  auto remainder = polynomial_remainder(product, modulus, p_);
  remainder.resize(static_cast<size_t>(k_), 0);
  return encode(remainder);
}

std::vector<int8_t> GaloisField::quadratic_character() const {
  std::vector<int8_t> chi(static_cast<size_t>(q_), -1);
  chi[0] = 0;
  for (int64_t a = 1; a < q_; ++a) {
    chi[static_cast<size_t>(multiply(a, a))] = 1;
  }
  return chi;
}

}  // namespace dartquant::rotation
