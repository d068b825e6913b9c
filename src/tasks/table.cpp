#include "dartquant/tasks/table.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "dartquant/core/error.h"
#include "dartquant/tasks/registry.h"
#include "dartquant/tasks/text.h"

namespace dartquant::tasks {
namespace {

std::string two_decimals(const std::optional<double>& value) {
  if (!value) {
    return "-";
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", *value);
  return text;
}

/// Display names of the methods the quantize command records in config.method.
std::string method_name(const std::string& method) {
  static const std::map<std::string, std::string> names = {
      {"fp", "-"}, {"rtn", "RTN"}, {"gptq", "GPTQ"}, {"quarot", "QuaRot"}, {"spinquant", "SpinQuant"},
      {"dartquant", "DartQuant"}};
  auto found = names.find(method);
  return found == names.end() ? method : found->second;
}

std::string model_name(const nlohmann::json& config) {
  if (!config.contains("model")) {
    return "?";
  }
  const auto& model = config.at("model");
  if (model.contains("name") && model.at("name").is_string()) {
    return model.at("name").get<std::string>();
  }
  if (model.contains("path") && model.at("path").is_string()) {
    auto path = std::filesystem::path(model.at("path").get<std::string>()).lexically_normal();
    return path.has_filename() ? path.filename().string() : path.parent_path().filename().string();
  }
  return "?";
}

/// Returns the bits column of an unquantized model: its compute dtype ("FP32", "BF16", ...).
std::string unquantized_bits(const nlohmann::json& config) {
  static const std::map<std::string, std::string> names = {
      {"float32", "FP32"}, {"float16", "FP16"}, {"bfloat16", "BF16"}, {"float64", "FP64"}};
  auto found = names.find(config.value("dtype", std::string()));
  return found == names.end() ? "FP" : found->second;
}

std::vector<std::string> cells(const TableRow& row) {
  std::vector<std::string> values = {row.model, row.bits, row.method};
  for (const auto& score : row.scores) {
    values.push_back(two_decimals(score));
  }
  values.push_back(two_decimals(row.average));
  values.push_back(two_decimals(row.wiki));
  return values;
}

std::vector<std::string> headers() {
  std::vector<std::string> values = {"model", "bits", "method"};
  for (const auto& column : zero_shot_columns()) {
    values.push_back(column.header);
  }
  values.push_back("AVG");
  values.push_back("WIKI");
  return values;
}

std::string centered(const std::string& text, int64_t width) {
  int64_t padding = width - code_point_count(text);
  int64_t left = padding / 2;
  return std::string(static_cast<size_t>(left), ' ') + text + std::string(static_cast<size_t>(padding - left), ' ');
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    return text;
  }
  std::string quoted = "\"";
  for (char c : text) {
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return quoted + "\"";
}

}  // namespace

TableRow table_row(const nlohmann::json& results_file, const std::string& source) {
  DQ_CHECK(results_file.is_object() && results_file.contains("results") && results_file.at("results").is_object(),
           source, ": not a dartquant results file (no \"results\" object)");
  const auto& results = results_file.at("results");
  const auto config = results_file.value("config", nlohmann::json::object());

  TableRow row;
  row.model = model_name(config);
  std::string method = config.value("method", std::string("fp"));
  std::string bits = config.value("bits", std::string("16-16-16"));
  row.method = method_name(method);
  row.bits = method == "fp" ? unquantized_bits(config) : bits;

  bool complete = true;
  double sum = 0;
  for (const auto& column : zero_shot_columns()) {
    std::optional<double> score;
    if (results.contains(column.task)) {
      const auto& value = results.at(column.task).value(column.metric, nlohmann::json());
      DQ_CHECK(value.is_number() || value.is_null(), source, ": results.", column.task, ".", column.metric,
               " must be a number");
      if (value.is_number()) {
        score = 100.0 * value.get<double>();
      }
    }
    complete = complete && score.has_value();
    sum += score.value_or(0.0);
    row.scores.push_back(score);
  }
  if (complete) {
    row.average = sum / static_cast<double>(row.scores.size());
  }

  // `dartquant eval` stores WikiText-2 perplexity as results.wiki.ppl.
  if (results.contains("wiki")) {
    for (const char* key : {"ppl", "perplexity"}) {
      const auto& value = results.at("wiki").value(key, nlohmann::json());
      if (value.is_number()) {
        row.wiki = value.get<double>();
        break;
      }
    }
  }
  return row;
}

std::string render_markdown(const std::vector<TableRow>& rows) {
  auto header = headers();
  std::vector<std::vector<std::string>> body;
  std::string previous_model;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto values = cells(rows[i]);
    if (i > 0 && rows[i].model == previous_model) {
      values[0].clear();
    }
    previous_model = rows[i].model;
    body.push_back(std::move(values));
  }

  std::vector<int64_t> widths;
  for (size_t c = 0; c < header.size(); ++c) {
    int64_t width = code_point_count(header[c]);
    for (const auto& values : body) {
      width = std::max(width, code_point_count(values[c]));
    }
    // At least 5, so that the alignment cell " :-: " has a dash (GitHub needs one).
    widths.push_back(std::max<int64_t>(width + 2, 5));
  }

  auto line = [&](const std::vector<std::string>& values) {
    std::string text = "|";
    for (size_t c = 0; c < values.size(); ++c) {
      text += centered(values[c], widths[c]) + "|";
    }
    return text + "\n";
  };
  std::string table = line(header);
  table += "|";
  for (int64_t width : widths) {
    table += " :" + std::string(static_cast<size_t>(width - 4), '-') + ": |";
  }
  table += "\n";
  for (const auto& values : body) {
    table += line(values);
  }
  return table;
}

std::string render_csv(const std::vector<TableRow>& rows) {
  auto join = [](const std::vector<std::string>& values) {
    std::string text;
    for (size_t i = 0; i < values.size(); ++i) {
      text += (i > 0 ? "," : "") + csv_field(values[i]);
    }
    return text + "\n";
  };
  std::string table = join(headers());
  for (const auto& row : rows) {
    table += join(cells(row));
  }
  return table;
}

}  // namespace dartquant::tasks
