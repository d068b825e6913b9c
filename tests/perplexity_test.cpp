// WikiText-2 perplexity against the float64 references (GPTQ protocol, seqlen 512).
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/eval/perplexity.h"
#include "dartquant/eval/text_corpus.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::data_dir;
using testing::model_dir;

nlohmann::json reference_ppl(const std::string& model) {
  std::ifstream in(model_dir(model) / "reference" / "ppl.json");
  return nlohmann::json::parse(in);
}

std::vector<int64_t> wikitext_stream(const std::string& model) {
  auto tokenizer = tokenizer::load_tokenizer(model_dir(model));
  auto text = eval::wikitext_text(data_dir() / "wikitext-2-raw" / "wiki.test.raw");
  return eval::token_stream(*tokenizer, text);
}

TEST(WikitextStream, MatchesReferenceTokenStream) {
  auto expected = reference_ppl("stories260K")["wikitext2_test"];
  auto stream = wikitext_stream("stories260K");
  EXPECT_EQ(static_cast<int64_t>(stream.size()), expected["n_tokens_in_stream"].get<int64_t>());
  EXPECT_EQ(eval::stream_sha256(stream), expected["stream_sha256_int32le"].get<std::string>());

  // The same stream as stored independently in eval-streams-tok512.
  auto file = io::Checkpoint::open(data_dir() / "eval-streams-tok512" / "wiki.test.raw.tok512.safetensors");
  auto names = file.names();
  ASSERT_EQ(names.size(), 1u);
  auto stored = file.load(names.front()).to(at::kLong).reshape(-1);
  ASSERT_EQ(stored.size(0), static_cast<int64_t>(stream.size()));
  EXPECT_TRUE(at::equal(stored, at::tensor(stream, at::kLong)));
}

TEST(WikitextStream, RowsJoinedLikeHuggingFace) {
  auto dir = testing::make_temp_dir("dq-wiki");
  testing::write_file(dir / "raw", " \n = Title = \n \n Text line .\n");
  // Rows: "", " = Title = \n", "", " Text line .\n".
  EXPECT_EQ(eval::wikitext_text(dir / "raw"), "\n\n = Title = \n\n\n\n\n Text line .\n");
  std::filesystem::remove_all(dir);
}

class PerplexityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PerplexityTest, MatchesReferenceWithinTenthOfPercent) {
  auto expected = reference_ppl(GetParam())["wikitext2_test"];
  auto model = model::CausalLM::load(model_dir(GetParam()), ComputeOptions{});
  eval::PerplexityOptions options;
  options.seqlen = 512;
  options.show_progress = false;
  auto result = eval::evaluate_perplexity(model, wikitext_stream(GetParam()), options);

  EXPECT_EQ(result.windows, expected["n_windows"].get<int64_t>());
  EXPECT_EQ(result.predicted_tokens, expected["n_predicted_tokens"].get<int64_t>());
  double reference = expected["ppl"].get<double>();
  EXPECT_NEAR(result.perplexity, reference, reference * 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Models, PerplexityTest,
                         ::testing::Values("stories260K", "tiny-llama-5m", "tiny-mixtral", "tiny-deepseek-moe"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Perplexity, BatchSizeDoesNotChangeWindowLosses) {
  auto model = model::CausalLM::load(model_dir("stories260K"), ComputeOptions{});
  auto stream = wikitext_stream("stories260K");
  eval::PerplexityOptions options;
  options.seqlen = 128;
  options.limit = 6;
  options.show_progress = false;
  options.batch_size = 1;
  auto single = eval::evaluate_perplexity(model, stream, options);
  options.batch_size = 4;
  auto batched = eval::evaluate_perplexity(model, stream, options);
  ASSERT_EQ(single.window_nll.size(), batched.window_nll.size());
  for (size_t i = 0; i < single.window_nll.size(); ++i) {
    EXPECT_NEAR(single.window_nll[i], batched.window_nll[i], 1e-6) << "window " << i;
  }
}

TEST(Perplexity, RejectsTooShortStream) {
  auto model = model::CausalLM::load(model_dir("stories260K"), ComputeOptions{});
  eval::PerplexityOptions options;
  options.seqlen = 512;
  options.show_progress = false;
  std::vector<int64_t> stream(100, 5);
  try {
    eval::evaluate_perplexity(model, stream, options);
    ADD_FAILURE() << "accepted a stream shorter than one window";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("fewer than one window of 512"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace dartquant
