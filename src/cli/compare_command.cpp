// dartquant compare: our results against a reference table (the DartQuant
// paper's rows or a golden table), cell by cell. Exit code 3 when a cell is
// worse than its tolerance.
#include <algorithm>
#include <cstdio>

#include "cli_options.h"
#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/repro/compare.h"
#include "evaluation.h"

namespace dartquant::cli {

int compare_command(int argc, char** argv) {
  cxxopts::Options options("dartquant compare",
                           "Compare results with a reference table cell by cell. Exit code 3 when a cell is worse "
                           "than its tolerance or a reference row is missing, 0 when all pass.");
  options.positional_help("RESULTS...");
  options.add_options()
      ("results", "Results files (eval/quantize --output) or tables (reproduce's table.json)",
       cxxopts::value<std::vector<std::string>>())
      ("reference", "Reference table, e.g. configs/paper/mixtral-8x7b.json or configs/golden/tiny-mixtral.json",
       cxxopts::value<std::string>())
      ("wiki-tolerance", "Allowed WikiText-2 perplexity increase in percent (default: the reference's, else 3)",
       cxxopts::value<double>())
      ("task-tolerance", "Allowed accuracy drop per task in points (default: the reference's, else 1.5)",
       cxxopts::value<double>())
      ("avg-tolerance", "Allowed drop of the average in points (default: the reference's, else 0.7)",
       cxxopts::value<double>())
      ("columns", "Compare only these columns, e.g. WIKI or WG,AVG (default: all)", cxxopts::value<std::string>())
      ("allow-missing-rows", "Compare only the rows present in the results instead of failing on the others");
  options.parse_positional({"results"});

  auto parsed = parse_options(options, argc, argv);
  if (!parsed) {
    return 0;
  }
  if (parsed->count("results") == 0) {
    throw UsageError("dartquant compare needs at least one results file; run with --help for usage");
  }
  auto reference = repro::read_table(required_string(*parsed, "reference"));
  auto tolerances = reference.tolerances.value_or(repro::Tolerances{});
  auto read_tolerance = [&](const char* name, double& value) {
    if (parsed->count(name) > 0) {
      value = (*parsed)[name].as<double>();
      if (value < 0) {
        throw UsageError(str("--", name, " ", value, ": must not be negative"));
      }
    }
  };
  read_tolerance("wiki-tolerance", tolerances.wiki_relative_percent);
  read_tolerance("task-tolerance", tolerances.task_points);
  read_tolerance("avg-tolerance", tolerances.avg_points);

  std::vector<repro::TableEntry> ours;
  for (const auto& path : (*parsed)["results"].as<std::vector<std::string>>()) {
    auto entries = repro::read_entries(path);
    ours.insert(ours.end(), entries.begin(), entries.end());

    // Tables made with different --limit values score different items.
    auto document = read_json_file(path);
    auto ours_limit = document.value("limit", nlohmann::json());
    auto reference_limit = reference.details.value("limit", nlohmann::json());
    if (document.contains("rows") && ours_limit != reference_limit) {
      std::printf("note: %s was made with --limit %s and the reference with --limit %s, so their cells score "
                  "different items\n\n",
                  path.c_str(), ours_limit.is_null() ? "(none)" : ours_limit.dump().c_str(),
                  reference_limit.is_null() ? "(none)" : reference_limit.dump().c_str());
    }
  }
  std::vector<std::string> columns;
  if (parsed->count("columns") > 0) {
    columns = split_list((*parsed)["columns"].as<std::string>());
    for (const auto& column : columns) {
      const auto& known = repro::table_columns();
      if (std::find(known.begin(), known.end(), column) == known.end()) {
        throw UsageError(str("--columns: unknown column \"", column, "\"; columns: WG, SIQA, PIQA, OBQA, LAMB, HS, "
                             "ARC-E, ARC-C, MMLU, AVG, WIKI"));
      }
    }
  }
  auto comparison = repro::compare_tables(ours, reference, tolerances, columns);
  bool missing_rows_fail = parsed->count("allow-missing-rows") == 0;
  std::fputs(repro::format_comparison(comparison, reference, tolerances, missing_rows_fail).c_str(), stdout);
  return comparison.passed(missing_rows_fail) ? 0 : 3;
}

}  // namespace dartquant::cli
