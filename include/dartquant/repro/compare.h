// Cell-by-cell comparison of our results with a reference table (the DartQuant
// paper's rows in configs/paper/, or a golden table), for `dartquant compare`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dartquant/repro/result_table.h"

namespace dartquant::repro {

/// One compared cell. `difference` is ours − reference (WIKI: in percent of
/// the reference).
struct CellCheck {
  std::string row;
  std::string column;
  std::optional<double> ours;  ///< unset when our row lacks the cell
  double reference = 0;
  double difference = 0;
  bool failed = false;  ///< worse than the tolerance, or missing
};

struct Comparison {
  std::vector<CellCheck> cells;
  std::vector<std::string> missing_rows;    ///< reference rows we did not produce
  std::vector<std::string> unmatched_rows;  ///< our rows the reference does not have

  /// True when no cell failed and no row is missing (`missing_rows_fail`).
  bool passed(bool missing_rows_fail) const;
};

/// Compares every cell the reference has with ours, in `columns` only (all
/// columns when empty). A cell fails when WIKI is
/// more than wiki_relative_percent higher, a task accuracy more than
/// task_points lower or AVG more than avg_points lower, or when ours lacks it.
/// Better values never fail.
Comparison compare_tables(const std::vector<TableEntry>& ours, const ResultTable& reference,
                          const Tolerances& tolerances, const std::vector<std::string>& columns = {});

/// The comparison as a Markdown table (one row per reference row, each cell
/// "ours / reference (difference)", failing cells marked with "!"), followed
/// by the list of failures and missing rows and a final pass or fail line.
/// `missing_rows_fail` as in Comparison::passed.
std::string format_comparison(const Comparison& comparison, const ResultTable& reference, const Tolerances& tolerances,
                              bool missing_rows_fail);

}  // namespace dartquant::repro
