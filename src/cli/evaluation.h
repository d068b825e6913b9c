// The evaluation steps shared by `eval` and `quantize --eval`: task
// selection, perplexity and zero-shot runs, and the results JSON.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include "dartquant/core/compute.h"
#include "dartquant/eval/perplexity.h"
#include "dartquant/model/causal_lm.h"
#include "dartquant/repro/model_presets.h"
#include "dartquant/tokenizer/tokenizer.h"

namespace dartquant::cli {

/// Option names differ between commands: eval has --tasks/--seqlen,
/// quantize has --eval/--eval-seqlen.
struct EvaluationOptionNames {
  std::string tasks = "tasks";
  std::string seqlen = "seqlen";
};

/// Resolves --model: the value itself when it is a path (contains '/' or
/// exists), else a preset of configs/models.json found locally (see
/// repro/model_presets.h), with --data-dir or $DARTQUANT_DATA for the shared
/// test models.
repro::ResolvedModel resolve_model_option(const cxxopts::ParseResult& parsed);

/// Adds the evaluation options (tasks, seqlen, data-dir, text-file, limit,
/// batch-size, router-stats and the zero-shot options).
void add_evaluation_options(cxxopts::Options& options, const EvaluationOptionNames& names, bool tasks_required);

/// One perplexity task: its name, the text to score and what the text came from.
struct TextTask {
  std::string name;
  std::filesystem::path file;
  std::string text;
  std::string protocol;
};

/// Evaluation tasks and settings, resolved and checked before any slow step.
struct EvaluationPlan {
  std::vector<TextTask> text_tasks;
  std::vector<std::string> zero_shot_tasks;  ///< lm-eval names
  std::filesystem::path data_dir;            ///< data root of the zero-shot tasks, empty when none run
  std::optional<int64_t> seqlen;             ///< perplexity window; default from the model
  std::optional<int64_t> limit;
  int64_t batch_size = 0;
  bool router_stats = false;

  bool empty() const { return text_tasks.empty() && zero_shot_tasks.empty(); }
};

/// Reads the evaluation options; an empty task list is allowed when
/// `tasks_required` is false (quantize without --eval).
EvaluationPlan plan_evaluation(const cxxopts::ParseResult& parsed, const EvaluationOptionNames& names,
                               bool tasks_required);

/// Results of running a plan: `results.<task>` entries and the config parts.
struct EvaluationOutput {
  nlohmann::json results = nlohmann::json::object();
  nlohmann::json data = nlohmann::json::object();  ///< per task: file, hashes, protocol
  nlohmann::json zero_shot;                        ///< zero-shot settings, null when none ran
  nlohmann::json router_stats;                     ///< null unless requested on an MoE model
  int64_t seqlen = 0;
};

/// Runs every task of the plan on the model, printing a summary per task.
EvaluationOutput run_evaluation(const cxxopts::ParseResult& parsed, const EvaluationPlan& plan,
                                model::CausalLM& model, const tokenizer::Tokenizer& tokenizer);

/// Throws when `tokenizer` can produce ids past the model's embedding rows
/// (`vocab_size` of config.json), before any slow step runs into it.
void check_tokenizer_fits_model(const tokenizer::Tokenizer& tokenizer, const model::ModelConfig& config,
                                const std::filesystem::path& model_dir);

/// The `config` block shared by all results files: program, model and
/// tokenizer hashes, data, seqlen, limit, dtype, device and threads.
nlohmann::json describe_evaluation(const std::filesystem::path& model_dir, const tokenizer::Tokenizer& tokenizer,
                                   const EvaluationPlan& plan, const EvaluationOutput& output,
                                   const ComputeOptions& compute);

/// Writes {"results", "router_stats" (when collected), "config"} to `path`
/// atomically and logs it.
void write_run_results(const std::filesystem::path& path, const EvaluationOutput& evaluation,
                       const nlohmann::json& config);

/// Comma-separated list to items, empty items dropped.
std::vector<std::string> split_list(const std::string& text);

/// --data-dir, else $DARTQUANT_DATA; a UsageError when neither is set.
std::filesystem::path resolve_data_dir(const cxxopts::ParseResult& parsed);

}  // namespace dartquant::cli
