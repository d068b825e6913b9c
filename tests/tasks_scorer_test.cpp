// Batched log-likelihood scoring on stories260K: agreement with a plain forward pass,
// left truncation, invariance to batch size and to the sharing of sequences, and the
// exclusion of documents that cannot be scored.
#include <cmath>
#include <random>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/core/error.h"
#include "dartquant/tasks/registry.h"
#include "dartquant/tasks/request_encoding.h"
#include "dartquant/tasks/scorer.h"
#include "dartquant/tasks/zero_shot.h"
#include "test_support.h"

namespace dartquant {
namespace {

using tasks::EncodedRequest;
using tasks::ScorerOptions;

class TaskScorer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new model::CausalLM(model::CausalLM::load(testing::model_dir("stories260K"), ComputeOptions{}));
    tokenizer_ = tokenizer::load_tokenizer(testing::model_dir("stories260K")).release();
  }

  static void TearDownTestSuite() {
    delete model_;
    delete tokenizer_;
  }

  /// Sum of log-softmax at the continuation positions of one unpadded forward pass over
  /// `input` (the model input, continuation included except its last token).
  static double direct_loglikelihood(const std::vector<int64_t>& input, const std::vector<int64_t>& continuation) {
    at::NoGradGuard no_grad;
    auto ids = at::tensor(input, at::kLong).unsqueeze(0);
    auto log_probs = model_->forward(ids).to(at::kDouble).log_softmax(-1)[0];
    double sum = 0;
    auto n = static_cast<int64_t>(input.size());
    auto c = static_cast<int64_t>(continuation.size());
    for (int64_t k = 0; k < c; ++k) {
      sum += log_probs[n - c + k][continuation[static_cast<size_t>(k)]].item<double>();
    }
    return sum;
  }

  /// Encodes the requests of the first documents of a few tasks (MMLU's share sequences).
  static std::vector<EncodedRequest> sample_requests() {
    tasks::LoadOptions options;
    options.root = testing::data_dir();
    options.limit = 6;
    std::vector<EncodedRequest> requests;
    for (const std::string name : {"hellaswag", "winogrande", "arc_challenge", "lambada_openai"}) {
      for (const auto& task : tasks::load_zero_shot_task(name, options)) {
        for (const auto& document : task.documents) {
          for (const auto& request : document.requests) {
            requests.push_back(tasks::encode_request(*tokenizer_, request, false));
          }
        }
      }
    }
    options.limit = 3;
    auto subjects = tasks::load_zero_shot_task("mmlu", options);
    for (size_t s = 0; s < 3; ++s) {
      for (const auto& document : subjects[s].documents) {
        for (const auto& request : document.requests) {
          requests.push_back(tasks::encode_request(*tokenizer_, request, false));
        }
      }
    }
    return requests;
  }

  static model::CausalLM* model_;
  static tokenizer::Tokenizer* tokenizer_;
};

model::CausalLM* TaskScorer::model_ = nullptr;
tokenizer::Tokenizer* TaskScorer::tokenizer_ = nullptr;

TEST_F(TaskScorer, MatchesDirectForward) {
  EncodedRequest request{{1, 345, 400, 263}, {304, 341, 13}};
  auto results = tasks::score_requests(*model_, {request}, ScorerOptions{});
  std::vector<int64_t> input = {1, 345, 400, 263, 304, 341};
  EXPECT_NEAR(results[0].loglikelihood, direct_loglikelihood(input, request.continuation), 1e-5);
}

TEST_F(TaskScorer, GreedyFlagFollowsArgmax) {
  // Build a continuation from the model's own argmax predictions: it must be greedy.
  at::NoGradGuard no_grad;
  std::vector<int64_t> tokens = {1, 403, 407, 261};
  std::vector<int64_t> continuation;
  for (int step = 0; step < 4; ++step) {
    auto logits = model_->forward(at::tensor(tokens, at::kLong).unsqueeze(0));
    int64_t next = logits[0][-1].argmax().item<int64_t>();
    continuation.push_back(next);
    tokens.push_back(next);
  }
  EncodedRequest greedy{{1, 403, 407, 261}, continuation};
  EncodedRequest changed = greedy;
  changed.continuation.back() = (continuation.back() + 1) % 512;
  auto results = tasks::score_requests(*model_, {greedy, changed}, ScorerOptions{});
  EXPECT_TRUE(results[0].is_greedy);
  EXPECT_FALSE(results[1].is_greedy);
}

TEST_F(TaskScorer, LeftTruncatesToMaxLength) {
  const int64_t max_length = model_->config().max_position_embeddings;
  std::mt19937 generator(7);
  std::uniform_int_distribution<int64_t> token(3, 511);
  EncodedRequest request;
  for (int64_t i = 0; i < max_length + 90; ++i) {
    request.context.push_back(token(generator));
  }
  request.continuation = {token(generator), token(generator), token(generator)};

  // lm-eval: (context + continuation)[-(L+1):][:-1]
  std::vector<int64_t> whole = request.context;
  whole.insert(whole.end(), request.continuation.begin(), request.continuation.end());
  std::vector<int64_t> input(whole.end() - (max_length + 1), whole.end() - 1);
  ASSERT_EQ(static_cast<int64_t>(input.size()), max_length);

  auto results = tasks::score_requests(*model_, {request}, ScorerOptions{});
  EXPECT_NEAR(results[0].loglikelihood, direct_loglikelihood(input, request.continuation), 1e-4);
}

TEST_F(TaskScorer, ContinuationLongerThanMaxLengthIsError) {
  EncodedRequest request{{1}, std::vector<int64_t>(model_->config().max_position_embeddings + 1, 300)};
  EXPECT_THROW(tasks::score_requests(*model_, {request}, ScorerOptions{}), Error);
}

TEST_F(TaskScorer, BatchSizeOneAndThirtyTwoAgree) {
  auto requests = sample_requests();
  ScorerOptions one;
  one.batch_size = 1;
  ScorerOptions many;
  many.batch_size = 32;
  auto single = tasks::score_requests(*model_, requests, one);
  auto batched = tasks::score_requests(*model_, requests, many);
  ASSERT_EQ(single.size(), batched.size());
  double max_delta = 0;
  for (size_t i = 0; i < single.size(); ++i) {
    max_delta = std::max(max_delta, std::abs(single[i].loglikelihood - batched[i].loglikelihood));
    EXPECT_NEAR(single[i].loglikelihood, batched[i].loglikelihood, 1e-5) << "request " << i;
    EXPECT_EQ(single[i].is_greedy, batched[i].is_greedy) << "request " << i;
  }
  std::cout << "batch 1 vs 32: " << single.size() << " requests, max |delta| " << max_delta << std::endl;
}

TEST_F(TaskScorer, SharedSequencesScoreAsAlone) {
  auto requests = sample_requests();
  tasks::ScoringStats stats;
  auto shared = tasks::score_requests(*model_, requests, ScorerOptions{}, &stats);
  // The 9 MMLU documents' 36 one-token continuations need 9 sequences, so fewer sequences
  // than requests run.
  EXPECT_EQ(stats.requests, static_cast<int64_t>(requests.size()));
  EXPECT_LE(stats.sequences, stats.requests - 27);

  for (size_t i = 0; i < requests.size(); ++i) {
    auto alone = tasks::score_requests(*model_, {requests[i]}, ScorerOptions{});
    EXPECT_NEAR(shared[i].loglikelihood, alone[0].loglikelihood, 1e-5) << "request " << i;
    EXPECT_EQ(shared[i].is_greedy, alone[0].is_greedy) << "request " << i;
  }
}

TEST_F(TaskScorer, PrefixRequestSharesLongerSequence) {
  // The input of the first request is a prefix of the second's, so one sequence serves both.
  EncodedRequest shorter{{1, 345, 400}, {263}};
  EncodedRequest longer{{1, 345, 400}, {263, 304, 341}};
  tasks::ScoringStats stats;
  auto results = tasks::score_requests(*model_, {shorter, longer}, ScorerOptions{}, &stats);
  EXPECT_EQ(stats.sequences, 1);
  EXPECT_NEAR(results[0].loglikelihood, direct_loglikelihood({1, 345, 400}, {263}), 1e-5);
  EXPECT_NEAR(results[1].loglikelihood, direct_loglikelihood({1, 345, 400, 263, 304}, {263, 304, 341}), 1e-5);
}

TEST_F(TaskScorer, EmptyContextBecomesBos) {
  auto plain = tasks::encode_request(*tokenizer_, {"", " Once"}, false);
  EXPECT_EQ(plain.context, (std::vector<int64_t>{1}));
  EXPECT_EQ(plain.continuation, tokenizer_->encode(" Once"));

  // With add_bos, lm-eval encodes the continuation with special tokens as well.
  auto with_bos = tasks::encode_request(*tokenizer_, {"", " Once"}, true);
  EXPECT_EQ(with_bos.continuation.front(), 1);
}

TEST_F(TaskScorer, AddBosPrependsToContextOnly) {
  auto plain = tasks::encode_request(*tokenizer_, {"Once upon a", " time"}, false);
  auto with_bos = tasks::encode_request(*tokenizer_, {"Once upon a", " time"}, true);
  ASSERT_EQ(with_bos.context.size(), plain.context.size() + 1);
  EXPECT_EQ(with_bos.context.front(), 1);
  EXPECT_EQ(with_bos.continuation, plain.continuation);
  EXPECT_NE(plain.context.front(), 1);
}

TEST_F(TaskScorer, TrailingSpaceMovesToContinuation) {
  auto moved = tasks::encode_request(*tokenizer_, {"Once upon a ", "time"}, false);
  auto plain = tasks::encode_request(*tokenizer_, {"Once upon a", " time"}, false);
  EXPECT_EQ(moved.context, plain.context);
  EXPECT_EQ(moved.continuation, plain.continuation);
}

TEST_F(TaskScorer, OverlongContinuationIsExcludedAndReported) {
  auto root = testing::make_temp_dir("dq-lambada");
  std::filesystem::create_directories(root / "tasks" / "lambada_openai");
  std::string word(3000, 'x');
  testing::write_file(root / "tasks" / "lambada_openai" / "lambada_test.jsonl",
                      "{\"text\": \"Once upon a time there was a little girl\"}\n"
                      "{\"text\": \"She saw a " + word + "\"}\n");

  tasks::ZeroShotOptions options;
  options.load.root = root;
  options.show_progress = false;
  auto report = tasks::run_zero_shot(*model_, *tokenizer_, {"lambada_openai"}, options);
  std::filesystem::remove_all(root);

  ASSERT_EQ(report.excluded.size(), 1u);
  EXPECT_EQ(report.excluded[0].doc_id, "lambada_test.jsonl:2");
  EXPECT_NE(report.excluded[0].reason.find("more than the maximum length 512"), std::string::npos);
  EXPECT_EQ(report.results["lambada_openai"]["samples"], 1);
  EXPECT_EQ(report.results["lambada_openai"]["excluded"], 1);
  EXPECT_EQ(report.config["excluded"].size(), 1u);
}

}  // namespace
}  // namespace dartquant
