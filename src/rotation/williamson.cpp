// Williamson's construction (J. Williamson, "Hadamard's determinant theorem
// and the sum of four squares", Duke Math. J. 11, 1944) and a deterministic
// search for its four blocks.
//
// Symmetric circulant ±1 matrices A, B, C, D of odd order m with
// A² + B² + C² + D² = 4m·I are equivalent to first rows whose periodic
// autocorrelations (PAF) sum to zero at every shift k ≠ 0. The full search
// space (2^((m+1)/2) rows per block) is far too large for m = 43, so the
// search only considers rows that are constant on the orbits of a multiplier
// group H ⊆ (Z/mZ)^* containing −1, which makes the rows symmetric. With r
// non-zero orbits a block has 2^r rows, and the PAF of such a row is constant
// on orbits too, so r shifts suffice. A meet-in-the-middle match of
// PAF(A) + PAF(B) against −(PAF(C) + PAF(D)) then costs about 4^r operations.
// For m = 43 the subgroup of order 6 (r = 7) has solutions.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <tuple>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "hadamard_constructions.h"

namespace dartquant::rotation {
namespace {

// Bounds the search to at most 2^12 rows per block. Subgroups with more
// orbits are skipped. Measured on a 2-core x86 machine (-O3): m = 43 takes
// 0.1 ms, m = 23 takes 16 ms, a subgroup with 12 orbits about 0.1 s, and the
// slowest odd m below 4096 (m = 2501, four such subgroups, no blocks) 0.5 s.
constexpr int64_t kMaxOrbits = 12;

// Bounds the subgroup enumeration, which costs up to m² steps.
constexpr int64_t kMaxOrder = 4095;

// The distinct subgroups H = ⟨g, −1⟩ = {±g^i} of (Z/mZ)^* that are large
// enough to leave at most kMaxOrbits non-zero orbits (the m − 1 non-zero
// residues fall into orbits of at most |H| elements). Largest first (fewest
// orbits, cheapest search), ties broken by their sorted elements.
std::vector<std::vector<int64_t>> multiplier_subgroups(int64_t m) {
  struct Subgroup {
    std::vector<int64_t> elements;
    std::vector<bool> member;
  };
  std::vector<Subgroup> found;

  for (int64_t g = 1; g < m; ++g) {
    if (std::gcd(g, m) != 1) {
      continue;
    }

    // |⟨g, −1⟩| is ord(g), or twice that when −1 is not a power of g.
    int64_t order = 0;
    bool contains_minus_one = false;
    int64_t power = 1;
    do {
      contains_minus_one = contains_minus_one || power == m - 1;
      power = power * g % m;
      ++order;
    } while (power != 1);
    const int64_t size = contains_minus_one ? order : 2 * order;
    if (m - 1 > kMaxOrbits * size) {
      continue;
    }

    // A known subgroup of the same size that contains g is this one.
    bool known = false;
    for (const auto& subgroup : found) {
      known = known || (static_cast<int64_t>(subgroup.elements.size()) == size &&
                        subgroup.member[static_cast<size_t>(g)]);
    }
    if (known) {
      continue;
    }

    Subgroup subgroup;
    subgroup.member.assign(static_cast<size_t>(m), false);
    power = 1;
    do {
      for (int64_t element : {power, m - power}) {
        if (!subgroup.member[static_cast<size_t>(element)]) {
          subgroup.member[static_cast<size_t>(element)] = true;
          subgroup.elements.push_back(element);
        }
      }
      power = power * g % m;
    } while (power != 1);
    std::sort(subgroup.elements.begin(), subgroup.elements.end());
    found.push_back(std::move(subgroup));
  }

  std::vector<std::vector<int64_t>> subgroups;
  for (auto& subgroup : found) {
    subgroups.push_back(std::move(subgroup.elements));
  }
  std::sort(subgroups.begin(), subgroups.end(), [](const auto& a, const auto& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  return subgroups;
}

// Number of orbits of Z/mZ under the subgroup, by Burnside's lemma: h fixes
// the gcd(h − 1, m) solutions of (h − 1)·x ≡ 0 (mod m).
int64_t count_orbits(int64_t m, const std::vector<int64_t>& subgroup) {
  int64_t fixed_points = 0;
  for (int64_t h : subgroup) {
    fixed_points += std::gcd(h - 1, m);
  }
  return fixed_points / static_cast<int64_t>(subgroup.size());
}

// Orbits of Z/mZ under multiplication by the subgroup; orbit 0 is {0}.
std::vector<std::vector<int64_t>> multiplier_orbits(int64_t m, const std::vector<int64_t>& subgroup) {
  std::vector<bool> seen(static_cast<size_t>(m), false);
  std::vector<std::vector<int64_t>> orbits;
  for (int64_t x = 0; x < m; ++x) {
    if (seen[static_cast<size_t>(x)]) {
      continue;
    }
    std::vector<int64_t> orbit;
    for (int64_t h : subgroup) {
      const int64_t y = x * h % m;
      if (!seen[static_cast<size_t>(y)]) {
        seen[static_cast<size_t>(y)] = true;
        orbit.push_back(y);
      }
    }
    std::sort(orbit.begin(), orbit.end());
    orbits.push_back(std::move(orbit));
  }
  return orbits;
}

// First rows that are constant on the orbits, with their PAF and power
// spectrum (PSD) at one representative per non-zero orbit, because both are
// constant on orbits. The arrays are flat, with entry t of row c at c·shifts + t.
struct Candidates {
  size_t shifts = 0;
  std::vector<std::vector<int8_t>> rows;
  std::vector<int64_t> row_sums;
  std::vector<int32_t> autocorrelations;
  std::vector<double> spectra;
};

Candidates orbit_constant_rows(int64_t m, const std::vector<std::vector<int64_t>>& orbits) {
  const int64_t target = 4 * m;
  Candidates candidates;
  candidates.shifts = orbits.size() - 1;
  const size_t shifts = candidates.shifts;

  // cos(2π·i·f/m) for each representative frequency f.
  const double kTwoPi = 6.283185307179586476925286766559;
  std::vector<double> cosines(shifts * static_cast<size_t>(m));
  for (size_t t = 0; t < shifts; ++t) {
    const int64_t frequency = orbits[t + 1].front();
    for (int64_t i = 0; i < m; ++i) {
      cosines[t * static_cast<size_t>(m) + static_cast<size_t>(i)] =
          std::cos(kTwoPi * static_cast<double>(i * frequency % m) / static_cast<double>(m));
    }
  }

  // Row entry 0 stays +1: negating a whole block leaves its square unchanged.
  std::vector<int8_t> row(static_cast<size_t>(m));
  std::vector<int32_t> autocorrelation(shifts);
  std::vector<double> spectrum(shifts);
  for (uint64_t bits = 0; bits < (uint64_t{1} << shifts); ++bits) {
    row[0] = 1;
    for (size_t t = 0; t < shifts; ++t) {
      const int8_t sign = (bits >> t) & 1 ? -1 : 1;
      for (int64_t i : orbits[t + 1]) {
        row[static_cast<size_t>(i)] = sign;
      }
    }
    int64_t row_sum = 0;
    for (int8_t value : row) {
      row_sum += value;
    }

    // The symmetric row has a real DFT, and PSD(f) = DFT(f)² must leave room
    // for the other three blocks: PSD_A + PSD_B + PSD_C + PSD_D = 4m at every
    // frequency (Williamson's condition in the Fourier domain), with the
    // row sum as the DFT at f = 0.
    bool feasible = row_sum * row_sum <= target;
    for (size_t t = 0; t < shifts && feasible; ++t) {
      double dft = 0.0;
      for (int64_t i = 0; i < m; ++i) {
        dft += row[static_cast<size_t>(i)] * cosines[t * static_cast<size_t>(m) + static_cast<size_t>(i)];
      }
      spectrum[t] = dft * dft;
      feasible = spectrum[t] <= static_cast<double>(target) + 1e-6;
    }
    if (!feasible) {
      continue;
    }

    for (size_t t = 0; t < shifts; ++t) {
      const int64_t shift = orbits[t + 1].front();
      int32_t sum = 0;
      for (int64_t i = 0; i < m; ++i) {
        sum += row[static_cast<size_t>(i)] * row[static_cast<size_t>((i + shift) % m)];
      }
      autocorrelation[t] = sum;
    }
    candidates.rows.push_back(row);
    candidates.row_sums.push_back(row_sum);
    candidates.autocorrelations.insert(candidates.autocorrelations.end(), autocorrelation.begin(),
                                       autocorrelation.end());
    candidates.spectra.insert(candidates.spectra.end(), spectrum.begin(), spectrum.end());
  }
  return candidates;
}

// Hash of sign·(PAF(x) + PAF(y)).
uint64_t pair_hash(const Candidates& candidates, size_t x, size_t y, int32_t sign) {
  const int32_t* first = &candidates.autocorrelations[x * candidates.shifts];
  const int32_t* second = &candidates.autocorrelations[y * candidates.shifts];
  uint64_t hash = 0x9e3779b97f4a7c15ULL;
  for (size_t t = 0; t < candidates.shifts; ++t) {
    const auto value = static_cast<uint32_t>(sign * (first[t] + second[t]));
    hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  }
  return hash;
}

// PSD_x + PSD_y <= 4m at every representative frequency.
bool pair_fits_spectrum(const Candidates& candidates, size_t x, size_t y, double target) {
  const double* first = &candidates.spectra[x * candidates.shifts];
  const double* second = &candidates.spectra[y * candidates.shifts];
  for (size_t t = 0; t < candidates.shifts; ++t) {
    if (first[t] + second[t] > target + 1e-6) {
      return false;
    }
  }
  return true;
}

// PAF(a) + PAF(b) + PAF(c) + PAF(d) = 0 at every representative shift.
bool autocorrelations_cancel(const Candidates& candidates, size_t a, size_t b, size_t c, size_t d) {
  const size_t shifts = candidates.shifts;
  for (size_t t = 0; t < shifts; ++t) {
    const int32_t sum = candidates.autocorrelations[a * shifts + t] + candidates.autocorrelations[b * shifts + t] +
                        candidates.autocorrelations[c * shifts + t] + candidates.autocorrelations[d * shifts + t];
    if (sum != 0) {
      return false;
    }
  }
  return true;
}

struct PairEntry {
  uint64_t hash;
  uint32_t first;
  uint32_t second;
  bool operator<(const PairEntry& other) const {
    return std::tie(hash, first, second) < std::tie(other.hash, other.first, other.second);
  }
};

// Meet in the middle over unordered pairs: PAF(A) + PAF(B) = −(PAF(C) + PAF(D)).
// The blocks may be permuted freely, so A and B take the two largest row sums:
// with a² + b² + c² + d² = 4m (odd a, b, c, d), the stored pairs have
// 2m <= a² + b² <= 4m − 2 and the looked-up pairs have c² + d² <= 2m.
std::optional<WilliamsonBlocks> match_pairs(int64_t m, const Candidates& candidates) {
  const int64_t target = 4 * m;
  const auto count = static_cast<uint32_t>(candidates.rows.size());
  auto squares = [&](uint32_t x, uint32_t y) {
    return candidates.row_sums[x] * candidates.row_sums[x] + candidates.row_sums[y] * candidates.row_sums[y];
  };

  std::vector<PairEntry> table;
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t j = i; j < count; ++j) {
      const int64_t sum = squares(i, j);
      if (sum >= 2 * m && sum <= target - 2 && pair_fits_spectrum(candidates, i, j, static_cast<double>(target))) {
        table.push_back({pair_hash(candidates, i, j, 1), i, j});
      }
    }
  }
  std::sort(table.begin(), table.end());

  for (uint32_t k = 0; k < count; ++k) {
    for (uint32_t l = k; l < count; ++l) {
      if (squares(k, l) > 2 * m || !pair_fits_spectrum(candidates, k, l, static_cast<double>(target))) {
        continue;
      }
      const uint64_t hash = pair_hash(candidates, k, l, -1);
      auto it = std::lower_bound(table.begin(), table.end(), PairEntry{hash, 0, 0});
      for (; it != table.end() && it->hash == hash; ++it) {
        if (autocorrelations_cancel(candidates, it->first, it->second, k, l)) {
          return WilliamsonBlocks{candidates.rows[it->first], candidates.rows[it->second], candidates.rows[k],
                                  candidates.rows[l]};
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<WilliamsonBlocks> search_williamson_blocks(int64_t m) {
  if (m == 1) {
    return WilliamsonBlocks{std::vector<int8_t>{1}, std::vector<int8_t>{1}, std::vector<int8_t>{1},
                            std::vector<int8_t>{1}};
  }

  if (m > kMaxOrder) {
    return std::nullopt;
  }

  const auto start = std::chrono::steady_clock::now();
  for (const auto& subgroup : multiplier_subgroups(m)) {
    const int64_t free_orbits = count_orbits(m, subgroup) - 1;
    if (free_orbits > kMaxOrbits) {
      continue;
    }
    auto blocks = match_pairs(m, orbit_constant_rows(m, multiplier_orbits(m, subgroup)));
    if (blocks) {
      const double elapsed_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      spdlog::debug("Williamson blocks of order {} found with a multiplier group of order {} ({} orbits) in {:.1f} ms",
                    m, subgroup.size(), free_orbits, elapsed_ms);
      return blocks;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<WilliamsonBlocks> find_williamson_blocks(int64_t m) {
  DQ_CHECK(m >= 1 && m % 2 == 1, "Williamson search needs an odd order m >= 1, got m=", m);

  static std::mutex mutex;
  static std::map<int64_t, std::optional<WilliamsonBlocks>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(m);
  if (it == cache.end()) {
    it = cache.emplace(m, search_williamson_blocks(m)).first;
  }
  return it->second;
}

at::Tensor williamson_matrix(const WilliamsonBlocks& blocks) {
  const int64_t m = static_cast<int64_t>(blocks[0].size());

  // The quaternion array [[A, B, C, D], [−B, A, −D, C], [−C, D, A, −B],
  // [−D, −C, B, A]]: for symmetric, pairwise commuting blocks the
  // off-diagonal block products cancel, so H·Hᵀ = I_4 ⊗ (A² + B² + C² + D²).
  constexpr int kBlock[4][4] = {{0, 1, 2, 3}, {1, 0, 3, 2}, {2, 3, 0, 1}, {3, 2, 1, 0}};
  constexpr int8_t kSign[4][4] = {{1, 1, 1, 1}, {-1, 1, -1, 1}, {-1, 1, 1, -1}, {-1, -1, 1, 1}};

  const int64_t order = 4 * m;
  at::Tensor h = at::empty({order, order}, at::kChar);
  auto* out = h.data_ptr<int8_t>();
  for (int block_row = 0; block_row < 4; ++block_row) {
    for (int block_column = 0; block_column < 4; ++block_column) {
      const auto& first_row = blocks[static_cast<size_t>(kBlock[block_row][block_column])];
      const int8_t sign = kSign[block_row][block_column];
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < m; ++j) {
          // Circulant: entry (i, j) is first_row[(j − i) mod m].
          const int8_t value = first_row[static_cast<size_t>(((j - i) % m + m) % m)];
          out[(block_row * m + i) * order + (block_column * m + j)] = static_cast<int8_t>(sign * value);
        }
      }
    }
  }
  return h;
}

}  // namespace dartquant::rotation
