#include "dartquant/calibration/calibration_data.h"

#include <random>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/eval/text_corpus.h"

namespace dartquant::calibration {

std::vector<int64_t> calibration_stream(const tokenizer::Tokenizer& tokenizer, const std::filesystem::path& file) {
  return eval::token_stream(tokenizer, eval::wikitext_text(file));
}

at::Tensor sample_windows(const std::vector<int64_t>& stream, int64_t count, int64_t seqlen, uint64_t seed) {
  DQ_CHECK(count > 0, "--nsamples must be positive, got ", count);
  DQ_CHECK(seqlen >= 2, "--seqlen must be at least 2, got ", seqlen);
  int64_t size = static_cast<int64_t>(stream.size());
  DQ_CHECK(size > seqlen + 1, "the calibration text has ", size, " tokens, too few for windows of ", seqlen,
           "; use a longer --calib-data file or a smaller --seqlen");

  std::mt19937_64 generator(seed);
  uint64_t range = static_cast<uint64_t>(size - seqlen);  // starts 0 .. N - seqlen - 1
  auto windows = at::empty({count, seqlen}, at::kLong);
  auto* out = windows.data_ptr<int64_t>();
  for (int64_t w = 0; w < count; ++w) {
    int64_t start = static_cast<int64_t>(generator() % range);
    std::copy(stream.begin() + start, stream.begin() + start + seqlen, out + w * seqlen);
  }
  return windows;
}

}  // namespace dartquant::calibration
