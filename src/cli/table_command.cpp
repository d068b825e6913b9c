// dartquant table: the results table laid out as in the DartQuant paper, from results files of
// `dartquant eval`.
#include <fstream>
#include <iostream>
#include <sstream>

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include "cli/cli_options.h"
#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/core/logging.h"
#include "dartquant/tasks/table.h"

namespace dartquant::cli {
namespace {

nlohmann::json read_results(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DQ_CHECK(in.good(), path, ": results file not found or not readable");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& error) {
    throw Error(str(path, ": invalid JSON: ", error.what()));
  }
}

}  // namespace

int table_command(int argc, char** argv) {
  cxxopts::Options options("dartquant table",
                           "Prints one table row per results file (dartquant eval --output): model, bits, method, "
                           "WG, SIQA, PIQA, OBQA, LAMB, HS, ARC-E, ARC-C, MMLU in percent with the metric of the "
                           "DartQuant tables (acc_norm for PIQA, OBQA, HS, ARC-E and ARC-C; acc otherwise), AVG of "
                           "the nine and WIKI perplexity. Missing values print as \"-\".");
  options.custom_help("[--csv]");
  options.positional_help("RESULTS.json...");
  options.add_options()
      ("csv", "Print CSV instead of a Markdown table")
      ("results", "Results files, one row each, in this order", cxxopts::value<std::vector<std::string>>())
      ("log-level", "Log level on stderr: trace, debug, info, warn, error, off",
       cxxopts::value<std::string>()->default_value("info"));
  options.parse_positional({"results"});

  auto parsed = parse_options(options, argc, argv);
  if (!parsed) {
    return 0;
  }
  configure_logging((*parsed)["log-level"].as<std::string>());
  if (parsed->count("results") == 0) {
    throw UsageError("dartquant table needs at least one results file; run with --help for usage");
  }

  std::vector<tasks::TableRow> rows;
  for (const auto& path : (*parsed)["results"].as<std::vector<std::string>>()) {
    rows.push_back(tasks::table_row(read_results(path), path));
  }
  std::cout << (parsed->count("csv") > 0 ? tasks::render_csv(rows) : tasks::render_markdown(rows));
  return 0;
}

}  // namespace dartquant::cli
