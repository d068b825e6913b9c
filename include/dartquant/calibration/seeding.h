// Seeded randomness of DartQuant calibration, portable across standard
// libraries (std::shuffle and the std distributions are not).
#pragma once

#include <cstdint>
#include <vector>

namespace dartquant::calibration {

/// An independent seed for stream `stream` of run seed `seed` (splitmix64 of
/// both), so that e.g. the R1 subset and each epoch's shuffle differ.
uint64_t derive_seed(uint64_t seed, uint64_t stream);

/// A permutation of 0..n−1: Fisher–Yates driven by std::mt19937_64(seed), the
/// draw for position i taken mod (i + 1). Same seed, same permutation everywhere.
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

}  // namespace dartquant::calibration
