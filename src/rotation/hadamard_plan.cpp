// Factoring a Hadamard size n into n = K·2^j and choosing how to build H_K.
#include <algorithm>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/rotation/hadamard.h"
#include "galois_field.h"
#include "hadamard_constructions.h"

namespace dartquant::rotation {
namespace {

HadamardPlan make_plan(int64_t n, int64_t base_order, HadamardConstruction base, int64_t parameter) {
  HadamardPlan plan;
  plan.size = n;
  plan.base_order = base_order;
  plan.base = base;
  plan.power_of_two = n / base_order;
  plan.parameter = parameter;
  return plan;
}

// q when order K = q + 1 has a Paley I construction.
std::optional<int64_t> paley_i_parameter(int64_t order) {
  const int64_t q = order - 1;
  if (q % 4 == 3 && prime_power(q)) {
    return q;
  }
  return std::nullopt;
}

// q when order K = 2(q + 1) has a Paley II construction.
std::optional<int64_t> paley_ii_parameter(int64_t order) {
  if (order % 2 != 0) {
    return std::nullopt;
  }
  const int64_t q = order / 2 - 1;
  if (q % 4 == 1 && prime_power(q)) {
    return q;
  }
  return std::nullopt;
}

// The plan for n without the block-diagonal fallback, or nullopt.
std::optional<HadamardPlan> constructible_plan(int64_t n) {
  int64_t odd = n;
  while (odd % 2 == 0) {
    odd /= 2;
  }
  if (odd == 1) {
    return make_plan(n, 1, HadamardConstruction::kSylvester, 0);
  }

  // K = odd·2^i with n / K a power of two. Every Hadamard order above 2 is a
  // multiple of 4, so i starts at 2; the first K that works is the smallest.
  for (int64_t order = 4 * odd; order <= n && n % order == 0; order *= 2) {
    if (auto q = paley_i_parameter(order)) {
      return make_plan(n, order, HadamardConstruction::kPaleyI, *q);
    }
    if (auto q = paley_ii_parameter(order)) {
      return make_plan(n, order, HadamardConstruction::kPaleyII, *q);
    }
  }

  // Williamson only where no Paley order fits: K = 4m with m the odd part.
  if (n % (4 * odd) == 0 && find_williamson_blocks(odd)) {
    return make_plan(n, 4 * odd, HadamardConstruction::kWilliamson, odd);
  }
  return std::nullopt;
}

std::vector<int64_t> divisors_descending(int64_t n) {
  std::vector<int64_t> divisors;
  for (int64_t d = 1; d * d <= n; ++d) {
    if (n % d == 0) {
      divisors.push_back(d);
      if (d != n / d) {
        divisors.push_back(n / d);
      }
    }
  }
  std::sort(divisors.rbegin(), divisors.rend());
  return divisors;
}

// Warns once per size and process: the transform is applied per layer and
// per batch, and one line is enough to explain the weaker mixing.
void warn_fallback(const HadamardPlan& plan) {
  static std::mutex mutex;
  static std::set<int64_t> warned;
  std::lock_guard<std::mutex> lock(mutex);
  if (!warned.insert(plan.size).second) {
    return;
  }
  spdlog::warn(
      "Hadamard size {} has no Paley or Williamson construction, so it is built as {} diagonal blocks of {} "
      "and mixes values only within each block",
      plan.size, plan.size / plan.base_order, plan.block->describe());
}

}  // namespace

std::string construction_name(HadamardConstruction construction) {
  switch (construction) {
    case HadamardConstruction::kSylvester:
      return "Sylvester";
    case HadamardConstruction::kPaleyI:
      return "Paley I";
    case HadamardConstruction::kPaleyII:
      return "Paley II";
    case HadamardConstruction::kWilliamson:
      return "Williamson";
    case HadamardConstruction::kBlockDiagonal:
      return "block-diagonal";
  }
  return "unknown";
}

std::string HadamardPlan::describe() const {
  switch (base) {
    case HadamardConstruction::kSylvester:
      return str(size, " (Sylvester)");
    case HadamardConstruction::kBlockDiagonal:
      return str(size, " = ", size / base_order, " blocks of ", block->describe(), " (block-diagonal fallback)");
    default:
      break;
  }

  const char* parameter_name = base == HadamardConstruction::kWilliamson ? "m" : "q";
  std::string text = str(base_order, " (", construction_name(base), ", ", parameter_name, "=", parameter, ")");
  if (power_of_two > 1) {
    text += str(" x ", power_of_two, " (Sylvester)");
  }
  return text;
}

HadamardPlan plan_hadamard(int64_t n) {
  DQ_CHECK(n >= 1, "Hadamard size must be at least 1, got ", n);
  if (auto plan = constructible_plan(n)) {
    return *plan;
  }

  // Fallback: the largest constructible proper divisor b (b = 1 always is).
  for (int64_t order : divisors_descending(n)) {
    if (order == n) {
      continue;
    }
    if (auto block = constructible_plan(order)) {
      HadamardPlan plan = make_plan(n, order, HadamardConstruction::kBlockDiagonal, 0);
      plan.power_of_two = 1;
      plan.block = std::make_shared<const HadamardPlan>(*block);
      warn_fallback(plan);
      return plan;
    }
  }
  throw Error(str("no Hadamard block order found for size ", n));
}

}  // namespace dartquant::rotation
