// Task names accepted by `dartquant eval --tasks`: lm-eval's names and the column names of
// the DartQuant tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/task.h"

namespace dartquant::tasks {

/// A table column: its header, the lm-eval task behind it and the metric the table shows.
struct TableColumn {
  std::string header;  ///< "WG", "SIQA", ...
  std::string alias;   ///< the --tasks name: "wg", "siqa", ...
  std::string task;    ///< lm-eval's name: "winogrande", ...
  std::string metric;  ///< "acc" or "acc_norm"
};

/// The nine zero-shot columns in table order (WG, SIQA, PIQA, OBQA, LAMB, HS, ARC-E, ARC-C, MMLU).
const std::vector<TableColumn>& zero_shot_columns();

/// lm-eval's name for a zero-shot task given by either name ("wg" or "winogrande");
/// nullopt when `name` is not one of the nine.
std::optional<std::string> zero_shot_task_name(const std::string& name);

/// Expands "paper" to "wiki" and the nine zero-shot tasks, and maps zero-shot aliases to
/// lm-eval names; other entries ("wiki", "text", ...) pass through unchanged. Duplicates
/// are removed, keeping the first.
std::vector<std::string> expand_task_names(const std::vector<std::string>& names);

/// Loads a zero-shot task by lm-eval name. MMLU yields one task per subject.
std::vector<Task> load_zero_shot_task(const std::string& name, const LoadOptions& options);

}  // namespace dartquant::tasks
