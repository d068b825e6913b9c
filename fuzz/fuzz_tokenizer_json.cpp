// Fuzz target: Hugging Face tokenizer.json loader (load_hf_tokenizer, src/tokenizer/).
//
// The input is the whole tokenizer.json. A file that loads is then used to encode a few fixed
// texts, so the normalizer, pre-tokenizer regexes, BPE merges, added tokens and post-processor
// built from fuzzed JSON run too. Rejection, at load or encode, must raise dartquant::Error.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dartquant/tokenizer/tokenizer.h"
#include "fuzz_support.h"

namespace {

// Texts that reach the common code paths: ASCII words and digits, runs of spaces and newlines,
// multi-byte UTF-8 and the DeepSeek special tokens, which the seed files declare.
const char* const kSampleTexts[] = {
    "Hello world! It's 2024, isn't it?",
    "  leading spaces\n\nand\ttabs   ",
    "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 na\xc3\xafve",
    "<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>x 12345",
    "",
};

// Tokenizer::vocab_size() promises that every id is below it; an id outside is a finding.
void check_ids(const std::vector<int64_t>& ids, int64_t vocab_size) {
  for (const int64_t id : ids) {
    if (id < 0 || id >= vocab_size) {
      std::fprintf(stderr, "token id %lld outside [0, %lld)\n", static_cast<long long>(id),
                   static_cast<long long>(vocab_size));
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Loader warnings (unsupported options, fallbacks) would flood the fuzzer log.
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dartquant;
  const auto path = fuzz::scratch_dir() / "tokenizer.json";
  fuzz::write_file(path, fuzz::as_text(data, size));
  try {
    const auto loaded = tokenizer::load_hf_tokenizer(path);
    for (const char* text : kSampleTexts) {
      check_ids(loaded->encode(text), loaded->vocab_size());
      check_ids(loaded->encode_with_special_tokens(text), loaded->vocab_size());
    }
  } catch (const Error&) {
    // The documented rejection of an invalid tokenizer.json.
  }
  return 0;
}
