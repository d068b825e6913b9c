// Reading the released task files: JSON Lines rows and one-label-per-line files, with
// errors that name the file and line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dartquant::tasks {

/// One JSON object from a JSON Lines file and where it came from.
struct JsonRow {
  nlohmann::json value;
  std::filesystem::path file;
  int64_t line = 0;  ///< 1-based

  /// Throws dartquant::Error "<file>:<line>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

  bool has(const std::string& key) const;

  /// The string at `key`; an error when the key is missing or not a string.
  std::string string_at(const std::string& key) const;

  /// The JSON value at `key`; an error when the key is missing.
  const nlohmann::json& at(const std::string& key) const;
};

/// Reads every non-blank line of a JSON Lines file as a JSON object. A missing or empty file
/// and a line that is not a JSON object are errors naming the file and line.
std::vector<JsonRow> read_jsonl(const std::filesystem::path& path);

/// One label and the 1-based line it was read from.
struct LabelLine {
  std::string text;
  int64_t line = 0;
};

/// Reads a labels file (one label per line, surrounding whitespace ignored, blank lines
/// skipped) and checks that it has `expected_count` labels, the row count of `rows_file`.
std::vector<LabelLine> read_labels(const std::filesystem::path& path, size_t expected_count,
                                   const std::filesystem::path& rows_file);

/// Parses a label as an integer in [first, last]; errors name the file and line.
int64_t parse_label(const std::string& text, int64_t first, int64_t last, const std::filesystem::path& file,
                    int64_t line);

/// A choice label such as "B" looked up in `labels` (lm-eval's choices.label.index(key)).
int64_t label_index(const std::vector<std::string>& labels, const std::string& key, const JsonRow& row);

}  // namespace dartquant::tasks
