// Tables of results in the layout of the DartQuant paper's MoE table, as JSON:
// the paper's rows (configs/paper/), golden tables of the small models (configs/golden/)
// and the table `dartquant reproduce` writes. One file:
//   {"model": "...", "rows": [{"method": "quarot", "bits": "4-4-4", "WG": 67.32, ..., "AVG": 63.59, "WIKI": 5.03}],
//    "tolerances": {"wiki_relative_percent": 3, "task_points": 1.5, "avg_points": 0.7}}   (tolerances optional)
// plus any descriptive fields (source, repository, command). Accuracies are in
// percent, WIKI is WikiText-2 perplexity.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dartquant::repro {

/// Column names in table order: the nine zero-shot columns, AVG, WIKI.
const std::vector<std::string>& table_columns();

/// One row: a method at a bit setting, with the cells it has.
struct TableEntry {
  std::string method;                   ///< fp, rtn, gptq, quarot or dartquant
  std::string bits;                     ///< W-A-KV, "16-16-16" for fp
  std::map<std::string, double> cells;  ///< column -> value; a missing cell is absent

  /// Key that identifies the row in a table: "fp", or "<method> <bits>".
  std::string key() const;
};

/// How much worse than a reference a cell may be.
struct Tolerances {
  double wiki_relative_percent = 3.0;  ///< WIKI may be this many percent higher
  double task_points = 1.5;            ///< a task accuracy may be this many points lower
  double avg_points = 0.7;             ///< AVG may be this many points lower
};

struct ResultTable {
  std::string model;
  std::vector<TableEntry> rows;
  std::optional<Tolerances> tolerances;
  nlohmann::json details = nlohmann::json::object();  ///< descriptive fields kept as they are
};

/// Reads a table file. Throws dartquant::Error naming the file and field for
/// invalid JSON, an unknown column, a non-numeric cell or a duplicate row.
ResultTable read_table(const std::filesystem::path& path);

/// The table as JSON in the file format.
nlohmann::json table_to_json(const ResultTable& table);

/// The row of a results file of `dartquant eval --output` or `quantize
/// --output` (method and bits from its config, cells from its results).
/// `source` names the file in errors.
TableEntry entry_from_results(const nlohmann::json& results, const std::string& source);

/// The rows of `path`: every row of a table file, or the one row of a results file.
std::vector<TableEntry> read_entries(const std::filesystem::path& path);

}  // namespace dartquant::repro
