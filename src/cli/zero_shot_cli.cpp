#include "cli/zero_shot_cli.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/tasks/zero_shot.h"

namespace dartquant::cli {
namespace {

tasks::MmluPromptVersion parse_mmlu_prompt(const std::string& text) {
  if (text == "0.4.3") {
    return tasks::MmluPromptVersion::kLmEval043;
  }
  if (text == "0.4.4") {
    return tasks::MmluPromptVersion::kLmEval044;
  }
  throw UsageError(str("--mmlu-prompt \"", text, "\": expected 0.4.3 or 0.4.4"));
}

std::string format_metric(const nlohmann::json& entry, const std::string& metric) {
  const auto& value = entry.value(metric, nlohmann::json());
  const auto& error = entry.value(metric + "_stderr", nlohmann::json());
  if (!value.is_number()) {
    return "n/a";
  }
  char text[64];
  if (error.is_number()) {
    std::snprintf(text, sizeof(text), "%.4f ± %.4f", value.get<double>(), error.get<double>());
  } else {
    std::snprintf(text, sizeof(text), "%.4f", value.get<double>());
  }
  return text;
}

void print_summary(const tasks::TaskSummary& summary) {
  const auto& entry = summary.metrics;
  std::printf("%-14s acc %s  acc_norm %s  (%lld items", summary.name.c_str(), format_metric(entry, "acc").c_str(),
              format_metric(entry, "acc_norm").c_str(), static_cast<long long>(entry.value("samples", int64_t{0})));
  if (entry.contains("excluded") && entry["excluded"].get<int64_t>() > 0) {
    std::printf(", %lld excluded", static_cast<long long>(entry["excluded"].get<int64_t>()));
  }
  if (entry.contains("subjects")) {
    std::printf(", %lld subjects", static_cast<long long>(entry["subjects"].get<int64_t>()));
  }
  std::printf(", %.1f s)\n", entry.value("seconds", 0.0));
}

}  // namespace

void add_zero_shot_options(cxxopts::Options& options) {
  options.add_options("Zero-shot task")
      ("num-fewshot", "MMLU only: prepend the first N rows of each subject's dev split (0 to 5)",
       cxxopts::value<int64_t>()->default_value("0"), "N")
      ("add-bos", "Put the BOS token before every task request (lm-eval's add_bos_token=True; default: none)")
      ("mmlu-prompt", "MMLU description as lm-eval 0.4.3 renders it (one newline after it) or 0.4.4 (two)",
       cxxopts::value<std::string>()->default_value("0.4.3"), "VERSION")
      ("log-samples", "Write one JSON line per scored request to FILE", cxxopts::value<std::string>(), "FILE");
}

void check_zero_shot_options(const cxxopts::ParseResult& parsed, const std::vector<std::string>& task_names) {
  parse_mmlu_prompt(parsed["mmlu-prompt"].as<std::string>());
  int64_t shots = parsed["num-fewshot"].as<int64_t>();
  if (shots < 0 || shots > 5) {
    throw UsageError(str("--num-fewshot ", shots, ": must be between 0 and 5 (MMLU's dev split has 5 rows a subject)"));
  }
  for (const auto& name : task_names) {
    if (shots > 0 && name != "mmlu") {
      throw UsageError(str("--num-fewshot ", shots, " with task ", name,
                           ": only mmlu has few-shot examples here (its dev split); run the other tasks 0-shot"));
    }
  }
  if (task_names.empty() && (parsed.count("log-samples") > 0 || parsed.count("add-bos") > 0 || shots > 0)) {
    throw UsageError("--log-samples, --add-bos and --num-fewshot apply to zero-shot tasks; --tasks has none");
  }
}

nlohmann::json run_zero_shot_tasks(const cxxopts::ParseResult& parsed, const model::CausalLM& model,
                                   const tokenizer::Tokenizer& tokenizer, const std::vector<std::string>& task_names,
                                   const std::filesystem::path& data_dir, nlohmann::json& results) {
  tasks::ZeroShotOptions options;
  options.load.root = data_dir;
  if (parsed.count("limit") > 0) {
    options.load.limit = parsed["limit"].as<int64_t>();
  }
  options.load.num_fewshot = parsed["num-fewshot"].as<int64_t>();
  options.load.mmlu_prompt = parse_mmlu_prompt(parsed["mmlu-prompt"].as<std::string>());
  options.add_bos = parsed.count("add-bos") > 0;
  options.batch_size = parsed["batch-size"].as<int64_t>();
  options.keep_samples = parsed.count("log-samples") > 0;

  auto report = tasks::run_zero_shot(model, tokenizer, task_names, options);
  for (const auto& summary : report.summaries) {
    print_summary(summary);
  }
  for (const auto& [name, entry] : report.results.items()) {
    results[name] = entry;
  }
  if (options.keep_samples) {
    std::filesystem::path path = parsed["log-samples"].as<std::string>();
    tasks::write_sample_log(path, report.samples);
    spdlog::info("wrote {} request records to {}", report.samples.size(), path.string());
  }
  return report.config;
}

}  // namespace dartquant::cli
