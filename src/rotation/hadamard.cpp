// Dense Hadamard matrices (integer, normalized, randomized) and their exact check.
#include "dartquant/rotation/hadamard.h"

#include <cmath>
#include <map>
#include <mutex>
#include <random>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "hadamard_constructions.h"

namespace dartquant::rotation {
namespace {

at::Tensor build_factor(const HadamardPlan& plan) {
  switch (plan.base) {
    case HadamardConstruction::kSylvester:
      return sylvester_matrix(plan.base_order);
    case HadamardConstruction::kPaleyI:
      return paley_i_matrix(plan.parameter);
    case HadamardConstruction::kPaleyII:
      return paley_ii_matrix(plan.parameter);
    case HadamardConstruction::kWilliamson: {
      const auto blocks = find_williamson_blocks(plan.parameter);
      DQ_CHECK(blocks.has_value(), "no Williamson blocks of order m=", plan.parameter, " for Hadamard size ", plan.size);
      return williamson_matrix(*blocks);
    }
    case HadamardConstruction::kBlockDiagonal:
      break;
  }
  throw Error(str("Hadamard size ", plan.size, " is block-diagonal and has no single K-order factor"));
}

void check_floating(at::ScalarType dtype, const char* function) {
  DQ_CHECK(at::isFloatingType(dtype), function, " needs a floating-point dtype, got ", c10::toString(dtype));
}

}  // namespace

at::Tensor sylvester_matrix(int64_t n) {
  DQ_CHECK(n >= 1 && (n & (n - 1)) == 0, "Sylvester construction needs a power of two, got ", n);
  at::Tensor h = at::empty({n, n}, at::kChar);
  auto* out = h.data_ptr<int8_t>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      out[i * n + j] = __builtin_popcountll(static_cast<uint64_t>(i & j)) % 2 == 0 ? 1 : -1;
    }
  }
  return h;
}

at::Tensor hadamard_factor(const HadamardPlan& plan) {
  // Factors are cached by order: a plan's K-order factor depends on K alone,
  // and the fast transform needs it for every call.
  static std::mutex mutex;
  static std::map<int64_t, at::Tensor> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(plan.base_order);
  if (it == cache.end()) {
    it = cache.emplace(plan.base_order, build_factor(plan)).first;
  }
  return it->second;
}

at::Tensor hadamard_matrix(int64_t n) {
  const HadamardPlan plan = plan_hadamard(n);

  if (plan.base == HadamardConstruction::kBlockDiagonal) {
    const int64_t b = plan.base_order;
    const at::Tensor block = hadamard_matrix(b);
    at::Tensor h = at::zeros({n, n}, at::kChar);
    for (int64_t start = 0; start < n; start += b) {
      h.slice(0, start, start + b).slice(1, start, start + b).copy_(block);
    }
    return h;
  }

  // H_K ⊗ H_{2^j}: entry (a·2^j + b, c·2^j + d) is H_K[a][c]·H_{2^j}[b][d].
  const int64_t k = plan.base_order;
  const int64_t p = plan.power_of_two;
  const at::Tensor outer = hadamard_factor(plan).view({k, 1, k, 1});
  const at::Tensor inner = sylvester_matrix(p).view({1, p, 1, p});
  return (outer * inner).reshape({n, n});
}

at::Tensor normalized_hadamard(int64_t n, at::ScalarType dtype) {
  check_floating(dtype, "normalized_hadamard");
  const HadamardPlan plan = plan_hadamard(n);
  const int64_t order = plan.base == HadamardConstruction::kBlockDiagonal ? plan.base_order : n;
  return (hadamard_matrix(n).to(at::kDouble) / std::sqrt(static_cast<double>(order))).to(dtype);
}

at::Tensor random_signs(int64_t n, uint64_t seed, at::ScalarType dtype) {
  check_floating(dtype, "random_signs");
  DQ_CHECK(n >= 0, "random_signs needs n >= 0, got ", n);

  // The top bit of each mt19937_64 output, whose sequence the C++ standard
  // fixes; std::uniform_int_distribution is left to each library and is avoided.
  std::mt19937_64 generator(seed);
  at::Tensor signs = at::empty({n}, at::kDouble);
  auto* out = signs.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    out[i] = (generator() >> 63) != 0 ? -1.0 : 1.0;
  }
  return signs.to(dtype);
}

at::Tensor random_hadamard(int64_t n, uint64_t seed, at::ScalarType dtype) {
  check_floating(dtype, "random_hadamard");
  const at::Tensor signs = random_signs(n, seed, at::kDouble);
  return (signs.unsqueeze(1) * normalized_hadamard(n, at::kDouble)).to(dtype);
}

bool verify_hadamard(const at::Tensor& h, int64_t block) {
  DQ_CHECK(h.defined() && h.dim() == 2 && h.size(0) == h.size(1), "verify_hadamard needs a square matrix, got shape ",
           h.defined() ? h.sizes() : at::IntArrayRef{});
  const int64_t n = h.size(0);
  DQ_CHECK(n >= 1, "verify_hadamard needs a non-empty matrix");
  DQ_CHECK(block >= 1 && n % block == 0, "verify_hadamard: block order ", block, " does not divide the matrix order ", n);
  DQ_CHECK(!h.is_complex() && h.scalar_type() != at::kBool, "verify_hadamard needs an integer or floating dtype, got ",
           c10::toString(h.scalar_type()));
  const at::Tensor cpu = h.cpu();

  // Exactly n·block non-zero entries, and every entry inside the blocks is ±1
  // (checked below), so everything outside the blocks is zero.
  if ((cpu != 0).sum().item<int64_t>() != n * block) {
    return false;
  }

  const at::Tensor expected = at::eye(block, at::kDouble) * static_cast<double>(block);
  for (int64_t start = 0; start < n; start += block) {
    const at::Tensor square = cpu.slice(0, start, start + block).slice(1, start, start + block).to(at::kDouble);
    if (!square.abs().eq(1.0).all().item<bool>()) {
      return false;
    }
    if (!at::equal(at::matmul(square, square.t()), expected)) {
      return false;
    }
  }
  return true;
}

}  // namespace dartquant::rotation
