#include "dartquant/tasks/registry.h"

#include <algorithm>

#include "dartquant/core/error.h"

namespace dartquant::tasks {

const std::vector<TableColumn>& zero_shot_columns() {
  // The metric per column follows the DartQuant tables: acc_norm where lm-eval reports it
  // for PIQA, OpenBookQA, HellaSwag and ARC, acc elsewhere.
  static const std::vector<TableColumn> columns = {
      {"WG", "wg", "winogrande", "acc"},         {"SIQA", "siqa", "social_iqa", "acc"},
      {"PIQA", "piqa", "piqa", "acc_norm"},      {"OBQA", "obqa", "openbookqa", "acc_norm"},
      {"LAMB", "lamb", "lambada_openai", "acc"}, {"HS", "hs", "hellaswag", "acc_norm"},
      {"ARC-E", "arc-e", "arc_easy", "acc_norm"}, {"ARC-C", "arc-c", "arc_challenge", "acc_norm"},
      {"MMLU", "mmlu", "mmlu", "acc"},
  };
  return columns;
}

std::optional<std::string> zero_shot_task_name(const std::string& name) {
  for (const auto& column : zero_shot_columns()) {
    if (name == column.alias || name == column.task) {
      return column.task;
    }
  }
  return std::nullopt;
}

std::vector<std::string> expand_task_names(const std::vector<std::string>& names) {
  std::vector<std::string> expanded;
  auto add = [&](const std::string& name) {
    if (std::find(expanded.begin(), expanded.end(), name) == expanded.end()) {
      expanded.push_back(name);
    }
  };
  for (const auto& name : names) {
    if (name == "paper") {
      add("wiki");
      for (const auto& column : zero_shot_columns()) {
        add(column.task);
      }
    } else {
      add(zero_shot_task_name(name).value_or(name));
    }
  }
  return expanded;
}

std::vector<Task> load_zero_shot_task(const std::string& name, const LoadOptions& options) {
  if (name == "winogrande") return {load_winogrande(options)};
  if (name == "social_iqa") return {load_social_iqa(options)};
  if (name == "piqa") return {load_piqa(options)};
  if (name == "openbookqa") return {load_openbookqa(options)};
  if (name == "lambada_openai") return {load_lambada_openai(options)};
  if (name == "hellaswag") return {load_hellaswag(options)};
  if (name == "arc_easy") return {load_arc_easy(options)};
  if (name == "arc_challenge") return {load_arc_challenge(options)};
  if (name == "mmlu") return load_mmlu(options);
  throw UsageError(str("unknown zero-shot task \"", name, "\""));
}

}  // namespace dartquant::tasks
