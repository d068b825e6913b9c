#include "dartquant/tasks/zero_shot.h"

#include <chrono>
#include <cmath>
#include <map>
#include <optional>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/progress.h"
#include "dartquant/eval/results.h"
#include "dartquant/tasks/metrics.h"
#include "dartquant/tasks/mmlu_subjects.h"
#include "dartquant/tasks/registry.h"
#include "dartquant/tasks/request_encoding.h"
#include "dartquant/tasks/scorer.h"

namespace dartquant::tasks {
namespace {

constexpr const char* kProtocol =
    "lm-evaluation-harness 0.4.3 loglikelihood requests (Hugging Face causal-LM backend): "
    "trailing context whitespace moves to the continuation, context+continuation encoded once, "
    "input (context+continuation)[-(L+1):][:-1], score = sum of continuation log-probabilities; "
    "acc = argmax, acc_norm = argmax per code point of the choice; stderr = sample stddev / sqrt(n)";

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

nlohmann::json metrics_json(const TaskMetrics& metrics) {
  nlohmann::json entry = {
      {"acc", number_or_null(metrics.acc)},
      {"acc_stderr", number_or_null(metrics.acc_stderr)},
      {"acc_norm", number_or_null(metrics.acc_norm)},
      {"acc_norm_stderr", number_or_null(metrics.acc_norm_stderr)},
      {"samples", metrics.samples},
  };
  if (metrics.perplexity) {
    entry["perplexity"] = number_or_null(*metrics.perplexity);
  }
  return entry;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Runs one task (an MMLU subject counts as one) and fills its results entry.
class TaskEvaluator {
 public:
  TaskEvaluator(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer, const ZeroShotOptions& options,
                ZeroShotReport& report)
      : model_(model), tokenizer_(tokenizer), options_(options), report_(report) {}

  TaskMetrics evaluate(const Task& task, ProgressBar* progress) {
    auto start = std::chrono::steady_clock::now();
    const int64_t max_length = model_.config().max_position_embeddings;

    // Tokenize every request; a document whose continuation cannot fit is left out whole.
    std::vector<EncodedRequest> encoded;
    std::vector<const Document*> scored_documents;
    std::vector<size_t> first_request;
    int64_t excluded = 0;
    for (const auto& document : task.documents) {
      std::vector<EncodedRequest> requests;
      std::string reason;
      for (const auto& request : document.requests) {
        requests.push_back(encode_request(tokenizer_, request, options_.add_bos));
        auto length = static_cast<int64_t>(requests.back().continuation.size());
        if (length == 0) {
          reason = "a continuation encodes to no tokens";
        } else if (length > max_length) {
          reason = str("a continuation has ", length, " tokens, more than the maximum length ", max_length);
        }
      }
      if (!reason.empty()) {
        spdlog::warn("{}: document {} excluded: {}", task.name, document.id, reason);
        report_.excluded.push_back({task.name, document.id, reason});
        ++excluded;
        if (progress != nullptr) {
          progress->advance(static_cast<int64_t>(requests.size()), 0);
        }
        continue;
      }
      scored_documents.push_back(&document);
      first_request.push_back(encoded.size());
      for (auto& request : requests) {
        encoded.push_back(std::move(request));
      }
    }
    DQ_CHECK(!scored_documents.empty(), task.name, ": none of its ", task.documents.size(),
             " documents can be scored with a maximum length of ", max_length);

    ScorerOptions scorer_options;
    scorer_options.batch_size = options_.batch_size;
    if (progress != nullptr) {
      scorer_options.on_batch = [progress](int64_t requests, int64_t tokens) { progress->advance(requests, tokens); };
    }
    ScoringStats stats;
    auto results = score_requests(model_, encoded, scorer_options, &stats);

    // Decide each document from its requests' scores.
    std::vector<DocumentOutcome> outcomes;
    std::vector<double> loglikelihoods;
    for (size_t d = 0; d < scored_documents.size(); ++d) {
      const auto& document = *scored_documents[d];
      auto first = results.begin() + static_cast<std::ptrdiff_t>(first_request[d]);
      std::vector<LoglikelihoodResult> own(first, first + static_cast<std::ptrdiff_t>(document.requests.size()));
      outcomes.push_back(decide(document, task.kind, own));
      loglikelihoods.push_back(own.front().loglikelihood);
      if (options_.keep_samples) {
        add_samples(task, document, own, encoded, first_request[d], max_length);
      }
    }

    auto metrics = task_metrics(outcomes, task.kind, loglikelihoods);
    auto entry = metrics_json(metrics);
    entry["excluded"] = excluded;
    entry["requests"] = stats.requests;
    entry["sequences"] = stats.sequences;
    entry["seconds"] = seconds_since(start);
    report_.results[task.name] = entry;
    record_data(task);
    return metrics;
  }

 private:
  void add_samples(const Task& task, const Document& document, const std::vector<LoglikelihoodResult>& results,
                   const std::vector<EncodedRequest>& encoded, size_t first, int64_t max_length) {
    for (size_t c = 0; c < results.size(); ++c) {
      const auto& tokens = encoded[first + c];
      SampleRecord record;
      record.task = task.name;
      record.doc_index = document.index;
      record.doc_id = document.id;
      record.choice = static_cast<int64_t>(c);
      record.gold = document.gold;
      record.context = document.requests[c].context;
      record.continuation = document.requests[c].continuation;
      record.context_tokens = static_cast<int64_t>(tokens.context.size());
      record.continuation_tokens = static_cast<int64_t>(tokens.continuation.size());
      record.truncated_tokens = std::max<int64_t>(0, record.context_tokens + record.continuation_tokens - (max_length + 1));
      record.loglikelihood = results[c].loglikelihood;
      record.is_greedy = results[c].is_greedy;
      report_.samples.push_back(std::move(record));
    }
  }

  void record_data(const Task& task) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& file : task.files) {
      files.push_back(eval::describe_file(file));
    }
    report_.config["data"][task.name] = {{"format", task.format}, {"files", files}};
  }

  const model::CausalLM& model_;
  const tokenizer::Tokenizer& tokenizer_;
  const ZeroShotOptions& options_;
  ZeroShotReport& report_;
};

int64_t count_requests(const std::vector<Task>& tasks) {
  int64_t count = 0;
  for (const auto& task : tasks) {
    for (const auto& document : task.documents) {
      count += static_cast<int64_t>(document.requests.size());
    }
  }
  return count;
}

/// MMLU as lm-eval 0.4.3 groups it: subjects -> four categories -> mmlu, each level
/// weighted by sample counts with pooled standard errors.
void aggregate_mmlu(const std::vector<Task>& subjects, const std::vector<TaskMetrics>& metrics,
                    ZeroShotReport& report) {
  std::map<std::string, std::vector<TaskMetrics>> by_category;
  for (size_t i = 0; i < subjects.size(); ++i) {
    auto category = mmlu_category(subjects[i].name.substr(std::string("mmlu_").size()));
    by_category[category.value()].push_back(metrics[i]);
  }
  std::vector<TaskMetrics> categories;
  for (const auto& category : mmlu_categories()) {
    auto found = by_category.find(category);
    if (found == by_category.end()) {
      continue;
    }
    auto group = group_metrics(found->second);
    report.results["mmlu_" + category] = metrics_json(group);
    categories.push_back(group);
  }
  report.results["mmlu"] = metrics_json(group_metrics(categories));
}

}  // namespace

ZeroShotReport run_zero_shot(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer,
                             const std::vector<std::string>& task_names, const ZeroShotOptions& options) {
  ZeroShotReport report;
  TaskEvaluator evaluator(model, tokenizer, options, report);

  for (const auto& name : task_names) {
    auto start = std::chrono::steady_clock::now();
    auto tasks = load_zero_shot_task(name, options.load);
    int64_t documents = 0;
    for (const auto& task : tasks) {
      documents += static_cast<int64_t>(task.documents.size());
    }
    int64_t requests = count_requests(tasks);
    spdlog::info("{}: {} documents, {} requests ({} format)", name, documents, requests, tasks.front().format);

    std::optional<ProgressBar> progress;
    if (options.show_progress) {
      progress.emplace(name, requests, "tok");
    }
    std::vector<TaskMetrics> metrics;
    for (const auto& task : tasks) {
      metrics.push_back(evaluator.evaluate(task, progress ? &*progress : nullptr));
    }
    if (progress) {
      progress->finish();
    }

    if (name == "mmlu") {
      aggregate_mmlu(tasks, metrics, report);
      report.results["mmlu"]["subjects"] = static_cast<int64_t>(tasks.size());
      report.results["mmlu"]["seconds"] = seconds_since(start);
    }
    report.summaries.push_back({name, report.results[name]});
  }

  report.config["protocol"] = kProtocol;
  report.config["add_bos"] = options.add_bos;
  report.config["num_fewshot"] = options.load.num_fewshot;
  report.config["limit"] = options.load.limit ? nlohmann::json(*options.load.limit) : nlohmann::json();
  report.config["mmlu_prompt"] = options.load.mmlu_prompt == MmluPromptVersion::kLmEval043 ? "0.4.3" : "0.4.4";
  report.config["max_length"] = model.config().max_position_embeddings;
  report.config["batch_size"] = options.batch_size;
  report.config["excluded"] = nlohmann::json::array();
  for (const auto& item : report.excluded) {
    report.config["excluded"].push_back({{"task", item.task}, {"doc_id", item.doc_id}, {"reason", item.reason}});
  }
  return report;
}

}  // namespace dartquant::tasks
