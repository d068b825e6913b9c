#include "dartquant/tasks/data_files.h"

#include <algorithm>
#include <charconv>

#include "dartquant/core/error.h"
#include "dartquant/eval/text_corpus.h"
#include "dartquant/tasks/text.h"

namespace dartquant::tasks {
namespace {

/// Splits text into lines at "\n" (a trailing "\r" is removed), numbering them from 1.
template <typename Visit>
void for_each_line(const std::string& text, Visit visit) {
  size_t start = 0;
  int64_t number = 1;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    size_t length = end - start;
    if (length > 0 && text[start + length - 1] == '\r') {
      --length;
    }
    visit(text.substr(start, length), number);
    start = end + 1;
    ++number;
  }
}

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

std::string read_data_file(const std::filesystem::path& path) {
  DQ_CHECK(std::filesystem::is_regular_file(path), path.string(),
           ": data file not found; --data-dir (or DARTQUANT_DATA) must contain the task files");
  std::string text = eval::read_text_file(path);
  DQ_CHECK(text.find_first_not_of(" \t\r\n") != std::string::npos, path.string(), ": data file is empty");
  return text;
}

}  // namespace

void JsonRow::fail(const std::string& message) const { throw Error(str(file.string(), ":", line, ": ", message)); }

bool JsonRow::has(const std::string& key) const { return value.contains(key); }

const nlohmann::json& JsonRow::at(const std::string& key) const {
  auto found = value.find(key);
  if (found == value.end()) {
    fail(str("missing key \"", key, "\""));
  }
  return *found;
}

std::string JsonRow::string_at(const std::string& key) const {
  const auto& field = at(key);
  if (!field.is_string()) {
    fail(str("\"", key, "\" must be a string, got ", field.type_name()));
  }
  return field.get<std::string>();
}

std::vector<JsonRow> read_jsonl(const std::filesystem::path& path) {
  std::string text = read_data_file(path);
  std::vector<JsonRow> rows;
  for_each_line(text, [&](const std::string& line, int64_t number) {
    if (is_blank(line)) {
      return;
    }
    JsonRow row{nlohmann::json(), path, number};
    try {
      row.value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& error) {
      // parse_error for bad syntax, out_of_range for a number beyond the range of a double.
      row.fail(str("invalid JSON: ", error.what()));
    }
    if (!row.value.is_object()) {
      row.fail(str("expected a JSON object per line, got ", row.value.type_name()));
    }
    rows.push_back(std::move(row));
  });
  return rows;
}

std::vector<LabelLine> read_labels(const std::filesystem::path& path, size_t expected_count,
                                   const std::filesystem::path& rows_file) {
  std::string text = read_data_file(path);
  std::vector<LabelLine> labels;
  for_each_line(text, [&](const std::string& line, int64_t number) {
    std::string label = python_strip(line);
    if (!label.empty()) {
      labels.push_back({label, number});
    }
  });
  DQ_CHECK(labels.size() == expected_count, path.string(), ": has ", labels.size(), " labels but ",
           rows_file.string(), " has ", expected_count, " rows; the two files must match line for line");
  return labels;
}

int64_t parse_label(const std::string& text, int64_t first, int64_t last, const std::filesystem::path& file,
                    int64_t line) {
  int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  DQ_CHECK(ec == std::errc() && ptr == end, file.string(), ":", line, ": label \"", text, "\" is not an integer");
  DQ_CHECK(value >= first && value <= last, file.string(), ":", line, ": label ", value, " is out of range [", first,
           ", ", last, "]");
  return value;
}

int64_t label_index(const std::vector<std::string>& labels, const std::string& key, const JsonRow& row) {
  auto found = std::find(labels.begin(), labels.end(), key);
  if (found == labels.end()) {
    std::string known;
    for (const auto& label : labels) {
      known += (known.empty() ? "" : ", ") + label;
    }
    row.fail(str("answer \"", key, "\" is not one of the choice labels (", known, ")"));
  }
  return found - labels.begin();
}

}  // namespace dartquant::tasks
