// Zero-shot scores of stories260K against lm-evaluation-harness 0.4.3 run on the same data
// files. The golden files come from scripts/reference/lm_eval_reference.py (Hugging Face
// backend, float32, batch size 1, slow SentencePiece tokenizer): for every request the
// context and continuation strings lm-eval built, its log-likelihood and is_greedy, plus
// the aggregate metrics in summary.json.
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/model/causal_lm.h"
#include "dartquant/tasks/zero_shot.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "test_support.h"

namespace dartquant {
namespace {

/// Log-likelihoods must agree this closely (nats); decisions must agree wherever lm-eval's
/// margin between the best and the second-best choice is larger.
constexpr double kLoglikelihoodTolerance = 1e-3;

std::filesystem::path golden_dir() {
  return std::filesystem::path(DARTQUANT_SOURCE_DIR) / "tests" / "data" / "lm_eval_stories260K";
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "golden file missing: " << path;
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      rows.push_back(nlohmann::json::parse(line));
    }
  }
  return rows;
}

nlohmann::json read_summary() {
  std::ifstream in(golden_dir() / "summary.json");
  EXPECT_TRUE(in.good()) << "golden summary missing in " << golden_dir();
  return nlohmann::json::parse(in);
}

/// The requests of one document as lm-eval logged them.
struct GoldenDocument {
  std::string key;  ///< "<task>/<doc_id>"
  std::vector<std::string> contexts;
  std::vector<std::string> continuations;
  std::vector<double> loglikelihoods;
  std::vector<bool> greedy;
  std::optional<double> acc;
  std::optional<double> acc_norm;
};

std::map<std::string, GoldenDocument> read_golden(const std::string& file, const std::string& task) {
  std::map<std::string, GoldenDocument> documents;
  for (const auto& row : read_jsonl(golden_dir() / file)) {
    std::string name = row.contains("subject") ? "mmlu_" + row["subject"].get<std::string>() : task;
    GoldenDocument document;
    document.key = name + "/" + std::to_string(row["doc_id"].get<int64_t>());
    for (const auto& request : row["requests"]) {
      document.contexts.push_back(request["context"].get<std::string>());
      document.continuations.push_back(request["continuation"].get<std::string>());
      document.loglikelihoods.push_back(request["loglikelihood"].get<double>());
      document.greedy.push_back(request["is_greedy"].get<bool>());
    }
    if (row.contains("acc")) {
      document.acc = row["acc"].get<double>();
    }
    if (row.contains("acc_norm")) {
      document.acc_norm = row["acc_norm"].get<double>();
    }
    documents[document.key] = std::move(document);
  }
  return documents;
}

/// Our records of one document, by choice.
struct OurDocument {
  std::vector<tasks::SampleRecord> requests;
};

std::map<std::string, OurDocument> group_samples(const std::vector<tasks::SampleRecord>& samples) {
  std::map<std::string, OurDocument> documents;
  for (const auto& sample : samples) {
    documents[sample.task + "/" + std::to_string(sample.doc_index)].requests.push_back(sample);
  }
  return documents;
}

/// Index of the best value and its margin over the runner-up (infinite for one choice).
std::pair<int64_t, double> best_with_margin(const std::vector<double>& values) {
  int64_t best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[static_cast<size_t>(best)]) {
      best = static_cast<int64_t>(i);
    }
  }
  double margin = INFINITY;
  for (size_t i = 0; i < values.size(); ++i) {
    if (static_cast<int64_t>(i) != best) {
      margin = std::min(margin, values[static_cast<size_t>(best)] - values[i]);
    }
  }
  return {best, margin};
}

std::vector<double> per_character(const std::vector<double>& values, const std::vector<tasks::SampleRecord>& requests,
                                  bool winogrande) {
  // acc_norm divides by the choice's length in code points: the partial context for
  // WinoGrande, the continuation without its leading delimiter otherwise.
  std::vector<double> normalized;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string choice = winogrande ? requests[i].context : requests[i].continuation.substr(1);
    int64_t length = 0;
    for (char c : choice) {
      length += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }
    normalized.push_back(values[i] / static_cast<double>(length));
  }
  return normalized;
}

/// The outcome of comparing one run with lm-eval.
struct Agreement {
  int64_t requests = 0;
  double max_delta = 0;
  int64_t decisions = 0;       ///< acc and acc_norm decisions compared
  int64_t near_ties = 0;       ///< decisions skipped because lm-eval's margin is within tolerance
  int64_t disagreements = 0;
};

Agreement compare_with_lm_eval(const std::map<std::string, GoldenDocument>& golden,
                               const std::vector<tasks::SampleRecord>& samples, bool greedy_task, bool winogrande) {
  Agreement agreement;
  auto ours = group_samples(samples);
  EXPECT_EQ(ours.size(), golden.size()) << "documents scored by dartquant vs lm-eval";

  for (const auto& [key, reference] : golden) {
    auto found = ours.find(key);
    if (found == ours.end()) {
      ADD_FAILURE() << key << ": lm-eval scored this document, dartquant did not";
      continue;
    }
    const auto& requests = found->second.requests;
    if (requests.size() != reference.loglikelihoods.size()) {
      ADD_FAILURE() << key << ": " << requests.size() << " requests, lm-eval has " << reference.loglikelihoods.size();
      continue;
    }

    std::vector<double> our_values;
    for (size_t i = 0; i < requests.size(); ++i) {
      EXPECT_EQ(requests[i].context, reference.contexts[i]) << key << " choice " << i << ": context differs";
      EXPECT_EQ(requests[i].continuation, reference.continuations[i]) << key << " choice " << i;
      double delta = std::abs(requests[i].loglikelihood - reference.loglikelihoods[i]);
      EXPECT_LE(delta, kLoglikelihoodTolerance) << key << " choice " << i << ": dartquant "
                                                << requests[i].loglikelihood << ", lm-eval "
                                                << reference.loglikelihoods[i];
      EXPECT_EQ(requests[i].is_greedy, reference.greedy[i]) << key << " choice " << i << ": is_greedy";
      agreement.max_delta = std::max(agreement.max_delta, delta);
      ++agreement.requests;
      our_values.push_back(requests[i].loglikelihood);
    }
    if (greedy_task) {
      continue;
    }

    // Decisions: acc from raw log-likelihoods, acc_norm per character.
    const int64_t gold = requests.front().gold;
    std::vector<std::pair<std::vector<double>, std::vector<double>>> metrics = {
        {reference.loglikelihoods, our_values},
        {per_character(reference.loglikelihoods, requests, winogrande), per_character(our_values, requests, winogrande)},
    };
    for (size_t m = 0; m < metrics.size(); ++m) {
      auto [reference_choice, margin] = best_with_margin(metrics[m].first);
      auto [our_choice, unused] = best_with_margin(metrics[m].second);

      // lm-eval's own per-document metric (where it reports one) must follow from its scores.
      const auto& logged = m == 0 ? reference.acc : reference.acc_norm;
      if (logged && margin > 0) {
        EXPECT_EQ(*logged, reference_choice == gold ? 1.0 : 0.0) << key << ": lm-eval's logged metric " << m;
      }
      if (margin <= kLoglikelihoodTolerance) {
        ++agreement.near_ties;
        continue;
      }
      ++agreement.decisions;
      if (our_choice != reference_choice) {
        ++agreement.disagreements;
        ADD_FAILURE() << key << ": dartquant chose " << our_choice << ", lm-eval " << reference_choice
                      << " (margin " << margin << ", metric " << (m == 0 ? "acc" : "acc_norm") << ")";
      }
    }
  }
  return agreement;
}

void report(const std::string& name, const Agreement& agreement) {
  std::cout << "[lm-eval 0.4.3] " << name << ": " << agreement.requests << " requests, max |delta loglik| "
            << agreement.max_delta << ", decisions " << agreement.decisions - agreement.disagreements << "/"
            << agreement.decisions << " agree (" << agreement.near_ties << " near-ties skipped)" << std::endl;
  ::testing::Test::RecordProperty("max_delta_loglikelihood", std::to_string(agreement.max_delta));
}

class LmEvalReference : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    ComputeOptions options;  // float32 on CPU, as the reference ran
    model_ = new model::CausalLM(model::CausalLM::load(testing::model_dir("stories260K"), options));
    tokenizer_ = tokenizer::load_tokenizer(testing::model_dir("stories260K")).release();
  }

  static void TearDownTestSuite() {
    delete model_;
    delete tokenizer_;
  }

  static tasks::ZeroShotReport run(const std::string& task, int64_t limit, int64_t num_fewshot) {
    tasks::ZeroShotOptions options;
    options.load.root = testing::data_dir();
    options.load.limit = limit;
    options.load.num_fewshot = num_fewshot;
    options.keep_samples = true;
    options.show_progress = false;
    return tasks::run_zero_shot(*model_, *tokenizer_, {task}, options);
  }

  static model::CausalLM* model_;
  static tokenizer::Tokenizer* tokenizer_;
};

model::CausalLM* LmEvalReference::model_ = nullptr;
tokenizer::Tokenizer* LmEvalReference::tokenizer_ = nullptr;

TEST_P(LmEvalReference, MatchesPerRequest) {
  const std::string task = GetParam();
  auto summary = read_summary();
  const auto& run_info = summary["runs"]["zero_shot"];
  auto result = run(task, run_info["limit"].get<int64_t>(), 0);
  auto golden = read_golden(task + ".jsonl", task);

  bool greedy_task = task == "lambada_openai";
  auto agreement = compare_with_lm_eval(golden, result.samples, greedy_task, task == "winogrande");
  report(task, agreement);
  EXPECT_EQ(agreement.disagreements, 0);

  // The task's accuracy can differ from lm-eval's only by the near-ties.
  const auto& reference = run_info["results"][task];
  const auto& ours = result.results[task];
  double allowed = static_cast<double>(agreement.near_ties) / static_cast<double>(golden.size()) + 1e-12;
  EXPECT_NEAR(ours["acc"].get<double>(), reference["acc"].get<double>(), allowed) << task << " acc";
  EXPECT_NEAR(ours["acc_stderr"].get<double>(), reference["acc_stderr"].get<double>(), allowed + 1e-9);
  if (reference.contains("acc_norm")) {
    EXPECT_NEAR(ours["acc_norm"].get<double>(), reference["acc_norm"].get<double>(), allowed) << task << " acc_norm";
  }
  if (greedy_task) {
    // lm-eval: perplexity = exp(-mean loglikelihood); compare the mean log-likelihood.
    EXPECT_NEAR(std::log(ours["perplexity"].get<double>()), std::log(reference["perplexity"].get<double>()),
                kLoglikelihoodTolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(Tasks, LmEvalReference,
                         ::testing::Values("winogrande", "social_iqa", "piqa", "openbookqa", "lambada_openai",
                                           "hellaswag", "arc_easy", "arc_challenge"));

class LmEvalReferenceMmlu : public LmEvalReference {};

void check_mmlu(const tasks::ZeroShotReport& result, const nlohmann::json& run_info, const std::string& file) {
  auto golden = read_golden(file, "mmlu");
  auto agreement = compare_with_lm_eval(golden, result.samples, false, false);
  report(file, agreement);
  EXPECT_EQ(agreement.disagreements, 0);

  // lm-eval 0.4.3 aggregates subjects into four categories and those into mmlu, weighting by
  // sample counts and pooling standard errors at each level.
  for (const std::string group : {"mmlu", "mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities"}) {
    const auto& reference = run_info["results"][group];
    const auto& ours = result.results[group];
    double allowed = static_cast<double>(agreement.near_ties) / static_cast<double>(golden.size()) + 1e-12;
    EXPECT_NEAR(ours["acc"].get<double>(), reference["acc"].get<double>(), allowed) << group;
    if (agreement.near_ties == 0) {
      EXPECT_NEAR(ours["acc_stderr"].get<double>(), reference["acc_stderr"].get<double>(), 1e-9) << group;
    }
  }
}

TEST_F(LmEvalReferenceMmlu, ZeroShotMatches) {
  auto summary = read_summary();
  const auto& run_info = summary["runs"]["mmlu"];
  check_mmlu(run("mmlu", run_info["limit"].get<int64_t>(), 0), run_info, "mmlu.jsonl");
}

TEST_F(LmEvalReferenceMmlu, FiveShotMatches) {
  auto summary = read_summary();
  const auto& run_info = summary["runs"]["mmlu_5shot"];
  check_mmlu(run("mmlu", run_info["limit"].get<int64_t>(), 5), run_info, "mmlu_5shot.jsonl");
}

}  // namespace
}  // namespace dartquant
