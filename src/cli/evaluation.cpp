#include "evaluation.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include "cli/cli_options.h"
#include "cli/zero_shot_cli.h"
#include "dartquant/core/error.h"
#include "dartquant/eval/results.h"
#include "dartquant/eval/router_stats.h"
#include "dartquant/eval/text_corpus.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/repro/model_presets.h"
#include "dartquant/tasks/registry.h"

namespace dartquant::cli {
namespace {

constexpr const char* kWikiProtocol =
    "GPTQ WikiText-2: rows of wiki.test.raw (whitespace-only rows empty) joined by \"\\n\\n\", BOS once, "
    "non-overlapping windows of seqlen (tail dropped), PPL = exp(mean window loss)";
constexpr const char* kTextProtocol =
    "text file byte for byte, BOS once, non-overlapping windows of seqlen (tail dropped), "
    "PPL = exp(mean window loss)";
constexpr const char* kTaskList =
    "wiki, text, paper (wiki and the nine zero-shot tasks), winogrande|wg, social_iqa|siqa, piqa, openbookqa|obqa, "
    "lambada_openai|lamb, hellaswag|hs, arc_easy|arc-e, arc_challenge|arc-c, mmlu";

TextTask text_file_task(const cxxopts::ParseResult& parsed) {
  std::filesystem::path file = parsed["text-file"].as<std::string>();
  return {"text", file, eval::read_text_file(file), kTextProtocol};
}

void print_summary(const std::string& task, const eval::PerplexityResult& result, int64_t seqlen) {
  std::printf("%-6s ppl %.4f ± %.4f  (nll %.6f, %lld windows of %lld, %.1f s, %.0f tok/s)\n", task.c_str(),
              result.perplexity, result.perplexity_stderr, result.mean_nll, static_cast<long long>(result.windows),
              static_cast<long long>(seqlen), result.seconds, result.tokens_per_second);
  std::fflush(stdout);
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) {
      items.push_back(item);
    }
  }
  return items;
}

std::filesystem::path resolve_data_dir(const cxxopts::ParseResult& parsed) {
  if (parsed.count("data-dir") > 0) {
    return parsed["data-dir"].as<std::string>();
  }
  const char* env = std::getenv("DARTQUANT_DATA");
  if (env != nullptr && *env != '\0') {
    return env;
  }
  throw UsageError("the wiki and zero-shot tasks need the data folder: pass --data-dir DIR or set DARTQUANT_DATA "
                   "(the folder that contains wikitext-2-raw/ and tasks/)");
}

repro::ResolvedModel resolve_model_option(const cxxopts::ParseResult& parsed) {
  auto text = required_string(parsed, "model");
  if (text.find('/') != std::string::npos || std::filesystem::exists(text)) {
    return {text, std::nullopt};
  }
  std::filesystem::path data_dir;
  if (parsed.count("data-dir") > 0) {
    data_dir = parsed["data-dir"].as<std::string>();
  } else if (const char* env = std::getenv("DARTQUANT_DATA"); env != nullptr && *env != '\0') {
    data_dir = env;
  }
  return repro::resolve_model(text, quant::locate_configs_dir(), data_dir);
}

void add_evaluation_options(cxxopts::Options& options, const EvaluationOptionNames& names, bool tasks_required) {
  auto tasks_value = cxxopts::value<std::string>();
  if (tasks_required) {
    tasks_value->default_value("wiki");
  }
  options.add_options("Evaluation")
      (names.tasks, std::string("Comma-separated tasks: ") + kTaskList, tasks_value)
      (names.seqlen, "Perplexity window length in tokens (default: min(2048, max_position_embeddings))",
       cxxopts::value<int64_t>())
      ("data-dir", "Data folder with wikitext-2-raw/ and tasks/ (default: $DARTQUANT_DATA)",
       cxxopts::value<std::string>())
      ("text-file", "Text file scored byte for byte by the text task", cxxopts::value<std::string>())
      ("limit", "Score only the first N windows of each perplexity task, the first N items of each zero-shot task "
                "(of each subject for mmlu)", cxxopts::value<int64_t>())
      ("batch-size", "Windows (perplexity) or sequences (zero-shot) per forward pass (0: automatic, about 4096 "
                     "tokens per batch for perplexity)",
       cxxopts::value<int64_t>()->default_value("0"))
      ("router-stats", "Report the fraction of tokens each expert receives, per MoE layer");
  add_zero_shot_options(options);
}

EvaluationPlan plan_evaluation(const cxxopts::ParseResult& parsed, const EvaluationOptionNames& names,
                               bool tasks_required) {
  EvaluationPlan plan;
  if (parsed.count("limit") > 0) {
    plan.limit = parsed["limit"].as<int64_t>();
    if (*plan.limit <= 0) {
      throw UsageError(str("--limit ", *plan.limit, ": must be positive"));
    }
  }
  plan.batch_size = parsed["batch-size"].as<int64_t>();
  if (plan.batch_size < 0) {
    throw UsageError(str("--batch-size ", plan.batch_size, ": must be 0 or positive"));
  }
  if (parsed.count(names.seqlen) > 0) {
    plan.seqlen = parsed[names.seqlen].as<int64_t>();
  }
  plan.router_stats = parsed.count("router-stats") > 0;

  std::vector<std::string> requested;
  // A defaulted option has count 0 but a value.
  if (parsed.count(names.tasks) > 0 || tasks_required) {
    requested = tasks::expand_task_names(split_list(parsed[names.tasks].as<std::string>()));
  }
  for (const auto& name : requested) {
    if (tasks::zero_shot_task_name(name)) {
      plan.zero_shot_tasks.push_back(name);
    } else if (name == "wiki" || name == "wikitext2" || name == "wikitext") {
      auto file = resolve_data_dir(parsed) / "wikitext-2-raw" / "wiki.test.raw";
      DQ_CHECK(std::filesystem::is_regular_file(file), file.string(),
               ": WikiText-2 test file not found; --data-dir (or DARTQUANT_DATA) must contain "
               "wikitext-2-raw/wiki.test.raw");
      plan.text_tasks.push_back({"wiki", file, eval::wikitext_text(file), kWikiProtocol});
    } else if (name == "text") {
      if (parsed.count("text-file") == 0) {
        throw UsageError("task text needs --text-file FILE");
      }
      plan.text_tasks.push_back(text_file_task(parsed));
    } else {
      throw UsageError(str("--", names.tasks, ": unknown task \"", name, "\"; supported: ", kTaskList));
    }
  }
  bool has_text = std::any_of(plan.text_tasks.begin(), plan.text_tasks.end(),
                              [](const TextTask& task) { return task.name == "text"; });
  if (parsed.count("text-file") > 0 && !has_text) {
    plan.text_tasks.push_back(text_file_task(parsed));
  }
  if (tasks_required && plan.empty()) {
    throw UsageError(str("--", names.tasks, " is empty; use wiki, text, paper or zero-shot task names "
                         "(comma-separated)"));
  }

  check_zero_shot_options(parsed, plan.zero_shot_tasks);
  if (!plan.zero_shot_tasks.empty()) {
    plan.data_dir = resolve_data_dir(parsed);
  }
  return plan;
}

EvaluationOutput run_evaluation(const cxxopts::ParseResult& parsed, const EvaluationPlan& plan,
                                model::CausalLM& model, const tokenizer::Tokenizer& tokenizer) {
  EvaluationOutput output;
  eval::PerplexityOptions ppl_options;
  ppl_options.seqlen = plan.seqlen.value_or(std::min<int64_t>(2048, model.config().max_position_embeddings));
  ppl_options.batch_size = plan.batch_size;
  ppl_options.limit = plan.limit;
  output.seqlen = ppl_options.seqlen;

  eval::RouterStatistics router_stats;
  if (plan.router_stats && !model.config().moe) {
    spdlog::warn("--router-stats: the model has no Mixture-of-Experts layers; nothing to report");
  }
  model::RouterObserver observer = plan.router_stats ? router_stats.observer() : model::RouterObserver();

  for (const auto& task : plan.text_tasks) {
    auto stream = eval::token_stream(tokenizer, task.text);
    spdlog::info("{}: {} tokens from {}", task.name, stream.size(), task.file.string());
    auto result = eval::evaluate_perplexity(model, stream, ppl_options, observer);
    print_summary(task.name, result, ppl_options.seqlen);

    output.results[task.name] = eval::perplexity_metrics(result);
    auto file = eval::describe_file(task.file);
    file["stream_sha256_int32le"] = eval::stream_sha256(stream);
    file["protocol"] = task.protocol;
    output.data[task.name] = file;
  }

  if (!plan.zero_shot_tasks.empty()) {
    output.zero_shot = run_zero_shot_tasks(parsed, model, tokenizer, plan.zero_shot_tasks, plan.data_dir,
                                           output.results);
  }

  if (plan.router_stats && !router_stats.empty()) {
    std::cout << "\nexpert load (fraction of routed token slots):\n" << router_stats.table();
    output.router_stats = router_stats.to_json();
  }
  return output;
}

void check_tokenizer_fits_model(const tokenizer::Tokenizer& tokenizer, const model::ModelConfig& config,
                                const std::filesystem::path& model_dir) {
  // Fewer tokenizer ids than embedding rows is common (padded vocabularies), more is never valid.
  DQ_CHECK(tokenizer.vocab_size() <= config.vocab_size, tokenizer.source_file().string(), ": the tokenizer has ",
           tokenizer.vocab_size(), " tokens but ", (model_dir / "config.json").string(), " has vocab_size ",
           config.vocab_size, ", so its ids would index past the embedding; use the tokenizer files that came with "
           "this checkpoint");
}

nlohmann::json describe_evaluation(const std::filesystem::path& model_dir, const tokenizer::Tokenizer& tokenizer,
                                   const EvaluationPlan& plan, const EvaluationOutput& output,
                                   const ComputeOptions& compute) {
  nlohmann::json config = eval::describe_program();
  config["model"] = eval::describe_model(model_dir);
  config["tokenizer"] = {{"kind", tokenizer.kind()}, {"file", eval::describe_file(tokenizer.source_file())}};
  config["data"] = output.data;
  config["seqlen"] = output.seqlen;
  config["limit"] = plan.limit ? nlohmann::json(*plan.limit) : nlohmann::json(nullptr);
  config["dtype"] = dtype_name(compute.dtype);
  config["device"] = compute.device.str();
  config["threads"] = at::get_num_threads();
  if (!output.zero_shot.is_null()) {
    config["zero_shot"] = output.zero_shot;
  }
  return config;
}

void write_run_results(const std::filesystem::path& path, const EvaluationOutput& evaluation,
                       const nlohmann::json& config) {
  nlohmann::json output = {{"results", evaluation.results}};
  if (!evaluation.router_stats.is_null()) {
    output["router_stats"] = evaluation.router_stats;
  }
  output["config"] = config;
  eval::write_results(path, output);
  spdlog::info("wrote {}", path.string());
}

}  // namespace dartquant::cli
