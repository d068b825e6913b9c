#include "dartquant/repro/result_table.h"

#include <set>

#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/tasks/registry.h"
#include "dartquant/tasks/table.h"

namespace dartquant::repro {
namespace {

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names{"fp", "rtn", "gptq", "quarot", "dartquant"};
  return names;
}

Tolerances read_tolerances(const nlohmann::json& object, const std::string& source) {
  FieldReader reader(object, source, "tolerances", {"wiki_relative_percent", "task_points", "avg_points"});
  Tolerances tolerances;
  tolerances.wiki_relative_percent = reader.number("wiki_relative_percent");
  tolerances.task_points = reader.number("task_points");
  tolerances.avg_points = reader.number("avg_points");
  DQ_CHECK(tolerances.wiki_relative_percent >= 0 && tolerances.task_points >= 0 && tolerances.avg_points >= 0, source,
           ": tolerances must not be negative");
  return tolerances;
}

TableEntry read_row(const nlohmann::json& row, const std::string& source, size_t index) {
  auto field = "rows[" + std::to_string(index) + "]";
  std::vector<std::string> allowed{"method", "bits"};
  allowed.insert(allowed.end(), table_columns().begin(), table_columns().end());
  FieldReader reader(row, source, field, allowed);

  TableEntry entry;
  entry.method = reader.string("method");
  DQ_CHECK(std::find(method_names().begin(), method_names().end(), entry.method) != method_names().end(), source,
           ": field \"", reader.path("method"), "\" is \"", entry.method, "\"; use fp, rtn, gptq, quarot or dartquant");
  entry.bits = reader.string("bits");
  for (const auto& column : table_columns()) {
    if (reader.has(column) && !row.at(column).is_null()) {
      entry.cells[column] = reader.number(column);
    }
  }
  return entry;
}

}  // namespace

const std::vector<std::string>& table_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> names;
    for (const auto& column : tasks::zero_shot_columns()) {
      names.push_back(column.header);
    }
    names.push_back("AVG");
    names.push_back("WIKI");
    return names;
  }();
  return columns;
}

std::string TableEntry::key() const { return method == "fp" ? "fp" : method + " " + bits; }

ResultTable read_table(const std::filesystem::path& path) {
  auto document = read_json_file(path);
  DQ_CHECK(document.is_object() && document.contains("rows") && document.at("rows").is_array(), path.string(),
           ": not a results table (a JSON object with a \"rows\" array)");
  ResultTable table;
  table.model = document.value("model", std::string());
  std::set<std::string> keys;
  for (size_t i = 0; i < document.at("rows").size(); ++i) {
    auto entry = read_row(document.at("rows").at(i), path.string(), i);
    DQ_CHECK(keys.insert(entry.key()).second, path.string(), ": row \"", entry.key(), "\" appears twice");
    table.rows.push_back(std::move(entry));
  }
  if (document.contains("tolerances")) {
    table.tolerances = read_tolerances(document.at("tolerances"), path.string());
  }
  for (const auto& [key, value] : document.items()) {
    if (key != "model" && key != "rows" && key != "tolerances") {
      table.details[key] = value;
    }
  }
  return table;
}

nlohmann::json table_to_json(const ResultTable& table) {
  nlohmann::json document = table.details;
  document["model"] = table.model;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& entry : table.rows) {
    nlohmann::json row{{"method", entry.method}, {"bits", entry.bits}};
    for (const auto& column : table_columns()) {
      auto found = entry.cells.find(column);
      row[column] = found == entry.cells.end() ? nlohmann::json(nullptr) : nlohmann::json(found->second);
    }
    rows.push_back(row);
  }
  document["rows"] = rows;
  if (table.tolerances) {
    document["tolerances"] = {{"wiki_relative_percent", table.tolerances->wiki_relative_percent},
                              {"task_points", table.tolerances->task_points},
                              {"avg_points", table.tolerances->avg_points}};
  }
  return document;
}

TableEntry entry_from_results(const nlohmann::json& results, const std::string& source) {
  DQ_CHECK(results.is_object() && results.contains("config") && results.at("config").is_object(), source,
           ": not a results file of dartquant eval or quantize (no \"config\" object)");
  const auto& config = results.at("config");
  TableEntry entry;
  entry.method = config.value("method", std::string("fp"));
  entry.bits = config.value("bits", std::string("16-16-16"));

  auto row = tasks::table_row(results, source);
  for (size_t i = 0; i < row.scores.size(); ++i) {
    if (row.scores[i]) {
      entry.cells[table_columns()[i]] = *row.scores[i];
    }
  }
  if (row.average) {
    entry.cells["AVG"] = *row.average;
  }
  if (row.wiki) {
    entry.cells["WIKI"] = *row.wiki;
  }
  return entry;
}

std::vector<TableEntry> read_entries(const std::filesystem::path& path) {
  auto document = read_json_file(path);
  if (document.is_object() && document.contains("rows")) {
    return read_table(path).rows;
  }
  return {entry_from_results(document, path.string())};
}

}  // namespace dartquant::repro
