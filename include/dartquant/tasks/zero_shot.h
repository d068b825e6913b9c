// Zero-shot evaluation: load tasks, tokenize their requests, score them in batches and
// turn the scores into lm-eval 0.4.3's metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dartquant/model/causal_lm.h"
#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/sample_log.h"
#include "dartquant/tokenizer/tokenizer.h"

namespace dartquant::tasks {

struct ZeroShotOptions {
  LoadOptions load;
  bool add_bos = false;      ///< put BOS before every request (lm-eval's add_bos_token=True)
  int64_t batch_size = 0;    ///< sequences per forward pass; 0 is automatic
  bool keep_samples = false; ///< fill ZeroShotReport::samples (for --log-samples)
  bool show_progress = true;
};

/// A document that cannot be scored, with the reason.
struct ExcludedDocument {
  std::string task;
  std::string doc_id;
  std::string reason;
};

/// One line of the printed summary.
struct TaskSummary {
  std::string name;
  nlohmann::json metrics;  ///< the task's entry in `results`
};

struct ZeroShotReport {
  /// results.<task>: acc, acc_stderr, acc_norm, acc_norm_stderr, samples, ... with lm-eval's
  /// task names; MMLU adds mmlu_<category> and mmlu_<subject> entries.
  nlohmann::json results = nlohmann::json::object();
  /// The options and data files (with SHA-256) behind the results.
  nlohmann::json config = nlohmann::json::object();
  std::vector<TaskSummary> summaries;  ///< one per requested task, in request order
  std::vector<ExcludedDocument> excluded;
  std::vector<SampleRecord> samples;   ///< filled when keep_samples is set
};

/// Evaluates `task_names` (lm-eval names, see registry.h) with `model` and `tokenizer`.
///
/// A document with a continuation longer than the model's maximum length (or of no tokens)
/// cannot be scored: it is reported in `excluded` and left out of the metrics.
ZeroShotReport run_zero_shot(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer,
                             const std::vector<std::string>& task_names, const ZeroShotOptions& options);

}  // namespace dartquant::tasks
