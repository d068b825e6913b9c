// Calibration windows drawn from a text file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/tokenizer/tokenizer.h"

namespace dartquant::calibration {

/// Tokenizes a calibration file exactly like the evaluation text: the file's
/// lines as rows (whitespace-only rows empty) joined by "\n\n", one BOS at
/// the start.
std::vector<int64_t> calibration_stream(const tokenizer::Tokenizer& tokenizer, const std::filesystem::path& file);

/// `count` windows of `seqlen` tokens, ids[i : i + seqlen] with each start i
/// drawn uniformly from [0, N − seqlen − 1] by std::mt19937_64 seeded with
/// `seed` (start = draw mod range, the same on every standard library);
/// no extra BOS. Returns [count, seqlen] int64 on the CPU.
at::Tensor sample_windows(const std::vector<int64_t>& stream, int64_t count, int64_t seqlen, uint64_t seed);

}  // namespace dartquant::calibration
