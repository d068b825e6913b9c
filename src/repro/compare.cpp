#include "dartquant/repro/compare.h"

#include <cstdio>
#include <map>
#include <sstream>

namespace dartquant::repro {
namespace {

std::string number(double value, const char* format = "%.2f") {
  char text[48];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

std::string signed_difference(const CellCheck& cell) {
  return cell.column == "WIKI" ? number(cell.difference, "%+.1f%%") : number(cell.difference, "%+.2f");
}

}  // namespace

bool Comparison::passed(bool missing_rows_fail) const {
  for (const auto& cell : cells) {
    if (cell.failed) {
      return false;
    }
  }
  return !(missing_rows_fail && !missing_rows.empty());
}

Comparison compare_tables(const std::vector<TableEntry>& ours, const ResultTable& reference,
                          const Tolerances& tolerances, const std::vector<std::string>& columns) {
  const auto& compared = columns.empty() ? table_columns() : columns;
  std::map<std::string, const TableEntry*> by_key;
  for (const auto& entry : ours) {
    by_key[entry.key()] = &entry;
  }

  Comparison comparison;
  for (const auto& expected : reference.rows) {
    auto found = by_key.find(expected.key());
    if (found == by_key.end()) {
      comparison.missing_rows.push_back(expected.key());
      continue;
    }
    const TableEntry& actual = *found->second;
    by_key.erase(found);
    for (const auto& column : compared) {
      auto reference_cell = expected.cells.find(column);
      if (reference_cell == expected.cells.end()) {
        continue;
      }
      CellCheck cell;
      cell.row = expected.key();
      cell.column = column;
      cell.reference = reference_cell->second;
      auto our_cell = actual.cells.find(column);
      if (our_cell == actual.cells.end()) {
        cell.failed = true;
        comparison.cells.push_back(cell);
        continue;
      }
      cell.ours = our_cell->second;
      if (column == "WIKI") {
        cell.difference = 100.0 * (*cell.ours - cell.reference) / cell.reference;
        cell.failed = cell.difference > tolerances.wiki_relative_percent;
      } else {
        cell.difference = *cell.ours - cell.reference;
        double allowed = column == "AVG" ? tolerances.avg_points : tolerances.task_points;
        cell.failed = -cell.difference > allowed;
      }
      comparison.cells.push_back(cell);
    }
  }
  for (const auto& [key, entry] : by_key) {
    comparison.unmatched_rows.push_back(key);
  }
  return comparison;
}

std::string format_comparison(const Comparison& comparison, const ResultTable& reference, const Tolerances& tolerances,
                              bool missing_rows_fail) {
  std::ostringstream out;
  out << "Cells: ours / reference (difference; WIKI in percent), \"!\" where worse than the tolerance.\n\n";
  out << "| row |";
  for (const auto& column : table_columns()) {
    out << " " << column << " |";
  }
  out << "\n|---|";
  for (size_t i = 0; i < table_columns().size(); ++i) {
    out << "---|";
  }
  out << "\n";

  std::map<std::string, std::map<std::string, const CellCheck*>> cells;
  for (const auto& cell : comparison.cells) {
    cells[cell.row][cell.column] = &cell;
  }
  for (const auto& row : reference.rows) {
    auto found = cells.find(row.key());
    if (found == cells.end()) {
      continue;
    }
    out << "| " << row.key() << " |";
    for (const auto& column : table_columns()) {
      auto cell = found->second.find(column);
      if (cell == found->second.end()) {
        out << " |";
        continue;
      }
      const CellCheck& check = *cell->second;
      out << " " << (check.ours ? number(*check.ours) : std::string("-")) << " / " << number(check.reference);
      if (check.ours) {
        out << " (" << signed_difference(check) << ")";
      }
      out << (check.failed ? " !" : "") << " |";
    }
    out << "\n";
  }

  int failures = 0;
  for (const auto& cell : comparison.cells) {
    if (!cell.failed) {
      continue;
    }
    ++failures;
    if (failures == 1) {
      out << "\nworse than the tolerance (WIKI +" << number(tolerances.wiki_relative_percent, "%g")
          << "% relative, tasks -" << number(tolerances.task_points, "%g") << " points, AVG -"
          << number(tolerances.avg_points, "%g") << " points):\n";
    }
    out << "  " << cell.row << " " << cell.column << ": ";
    if (cell.ours) {
      out << number(*cell.ours) << " against " << number(cell.reference) << " (" << signed_difference(cell) << ")\n";
    } else {
      out << "missing from our results (reference " << number(cell.reference) << ")\n";
    }
  }
  for (const auto& row : comparison.missing_rows) {
    out << "  row missing from our results: " << row << (missing_rows_fail ? "" : " (allowed)") << "\n";
  }
  for (const auto& row : comparison.unmatched_rows) {
    out << "  our row " << row << " has no reference row; not compared\n";
  }
  out << "\n" << comparison.cells.size() << " cells compared, " << failures << " worse than the tolerance, "
      << comparison.missing_rows.size() << " reference row(s) missing\n";
  out << (comparison.passed(missing_rows_fail) ? "result: pass\n" : "result: FAIL\n");
  return out.str();
}

}  // namespace dartquant::repro
