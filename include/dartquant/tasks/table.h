// The results table of the DartQuant paper: model, bits, method, the nine zero-shot
// columns in percent, their average and WikiText-2 perplexity.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dartquant::tasks {

struct TableRow {
  std::string model;
  std::string bits;    ///< the compute dtype ("FP32", "BF16") for an unquantized model, else W-A-KV bits ("4-4-16")
  std::string method;  ///< "-" for an unquantized model
  std::vector<std::optional<double>> scores;  ///< percent, one per zero-shot column; unset when missing
  std::optional<double> average;              ///< mean of the nine scores when all are present
  std::optional<double> wiki;                 ///< WikiText-2 perplexity
};

/// Builds a row from a results file written by `dartquant eval --output`. Each column
/// takes its task's metric (acc or acc_norm, see registry.h) from results.<task>; missing
/// tasks stay empty. `source` names the file in errors.
TableRow table_row(const nlohmann::json& results_file, const std::string& source);

/// A Markdown table laid out as the DartQuant paper's tables. Every cell is centred in a column
/// as wide as its longest entry plus two spaces, under a " :---: " alignment row. Scores have two
/// decimals, a missing value is "-", and the model name appears only on the first of
/// consecutive rows of one model.
std::string render_markdown(const std::vector<TableRow>& rows);

/// The same table as CSV with a header line and the model name on every row.
std::string render_csv(const std::vector<TableRow>& rows);

}  // namespace dartquant::tasks
