// Helpers shared by the task loaders (private to src/tasks).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dartquant/tasks/data_files.h"
#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/task.h"

namespace dartquant::tasks::detail {

/// `<root>/tasks/<task>/<file>`.
std::filesystem::path task_file(const LoadOptions& options, const std::string& task, const std::string& file);

/// Keeps the first `limit` documents (all when unset).
void keep_first(std::vector<Document>& documents, const std::optional<int64_t>& limit);

/// The row's `key` as an id when it is a string or integer, else "<file name>:<line>".
std::string row_id(const JsonRow& row, const std::string& key);

/// An integer label given as a JSON integer or a string of digits, checked to lie in
/// [first, last]; errors name the file and line.
int64_t integer_label(const JsonRow& row, const nlohmann::json& value, const std::string& key, int64_t first,
                      int64_t last);

/// A JSON array of strings; `what` names it in errors.
std::vector<std::string> string_list(const JsonRow& row, const nlohmann::json& value, const std::string& what);

/// Choice texts and their labels ("A", "B", ... or "1", "2", ...).
struct LabeledChoices {
  std::vector<std::string> texts;
  std::vector<std::string> labels;
};

/// Reads choices in the released ARC/OpenBookQA form, [{"text": ..., "label": ...}, ...],
/// or the Hugging Face form, {"text": [...], "label": [...]}.
LabeledChoices labeled_choices(const JsonRow& row, const nlohmann::json& value);

/// A multiple-choice document whose requests share `context`; each continuation is
/// " " + choice (lm-eval's default target delimiter), and acc_norm divides by the choice.
Document shared_context_document(int64_t index, std::string id, const std::string& context,
                                 const std::vector<std::string>& choices, int64_t gold);

/// Sets `task.format` from the rows' schema, or fails when the rows of one file mix schemas.
void set_format(Task& task, const std::string& format, const JsonRow& row);

}  // namespace dartquant::tasks::detail
