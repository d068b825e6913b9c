// The zero-shot part of `dartquant eval`: its options and the call into dartquant::tasks.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include "dartquant/model/causal_lm.h"
#include "dartquant/tokenizer/tokenizer.h"

namespace dartquant::cli {

/// Adds --num-fewshot, --add-bos, --mmlu-prompt and --log-samples (group "Zero-shot task").
void add_zero_shot_options(cxxopts::Options& options);

/// Rejects zero-shot option values that are invalid for `task_names` before any slow step.
void check_zero_shot_options(const cxxopts::ParseResult& parsed, const std::vector<std::string>& task_names);

/// Runs the zero-shot tasks `task_names` (lm-eval names), prints one summary line per task
/// on stdout, writes --log-samples, adds results.<task> entries to `results` and returns the
/// configuration block for the results file.
nlohmann::json run_zero_shot_tasks(const cxxopts::ParseResult& parsed, const model::CausalLM& model,
                                   const tokenizer::Tokenizer& tokenizer, const std::vector<std::string>& task_names,
                                   const std::filesystem::path& data_dir, nlohmann::json& results);

}  // namespace dartquant::cli
