// dartquant reproduce: the rows of the DartQuant paper's MoE table for one model (FP; rtn,
// quarot and dartquant at 4-4-16 and 4-4-4), one results file per row, then the
// table. Finished rows are kept, so an interrupted run continues where it stopped.
#include <cstdio>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "cli_options.h"
#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/eval/results.h"
#include "dartquant/io/atomic_file.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/repro/model_presets.h"
#include "dartquant/repro/result_table.h"
#include "dartquant/tasks/table.h"
#include "evaluation.h"

namespace dartquant::cli {
namespace {

struct TableRowPlan {
  std::string id;      ///< e.g. "quarot-4-4-16"; also the results file name
  std::string method;  ///< fp, rtn, quarot or dartquant
  std::string bits;
};

/// Lists the rows of the DartQuant paper's MoE table, in its order.
const std::vector<TableRowPlan>& paper_rows() {
  static const std::vector<TableRowPlan> rows{
      {"fp", "fp", "16-16-16"},
      {"rtn-4-4-16", "rtn", "4-4-16"},
      {"quarot-4-4-16", "quarot", "4-4-16"},
      {"dartquant-4-4-16", "dartquant", "4-4-16"},
      {"rtn-4-4-4", "rtn", "4-4-4"},
      {"quarot-4-4-4", "quarot", "4-4-4"},
      {"dartquant-4-4-4", "dartquant", "4-4-4"},
  };
  return rows;
}

std::vector<TableRowPlan> selected_rows(const cxxopts::ParseResult& parsed) {
  if (parsed.count("rows") == 0) {
    return paper_rows();
  }
  std::vector<TableRowPlan> rows;
  auto ids = split_list(parsed["rows"].as<std::string>());
  if (ids.empty()) {
    throw UsageError("--rows is empty; name at least one row, or leave it out for all seven");
  }
  for (const auto& id : ids) {
    auto found = std::find_if(paper_rows().begin(), paper_rows().end(), [&](const auto& row) { return row.id == id; });
    if (found == paper_rows().end()) {
      std::string known;
      for (const auto& row : paper_rows()) {
        known += (known.empty() ? "" : ", ") + row.id;
      }
      throw UsageError(str("--rows: unknown row \"", id, "\"; rows: ", known));
    }
    rows.push_back(*found);
  }
  return rows;
}

/// Runs a subcommand in this process with `arguments` (argv[0] first).
int run_subcommand(int (*command)(int, char**), std::vector<std::string> arguments) {
  std::vector<char*> argv;
  for (auto& argument : arguments) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);
  return command(static_cast<int>(arguments.size()), argv.data());
}

/// Returns the settings that decide a row's results: its subcommand arguments
/// without the output file, the rotations file flag, threads and log level.
nlohmann::json row_settings(const std::vector<std::string>& arguments) {
  static const std::vector<std::string> ignored{"--output", "--rotations", "--save-rotations", "--threads",
                                                "--log-level"};
  nlohmann::json settings = nlohmann::json::array();
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (std::find(ignored.begin(), ignored.end(), arguments[i]) != ignored.end()) {
      ++i;  // and its value
      continue;
    }
    settings.push_back(arguments[i]);
  }
  return settings;
}

/// Checks whether `file` contains the results of a row made with `settings`.
/// A file made with other settings is reported, followed by `consequence`.
bool has_results(const std::filesystem::path& file, const nlohmann::json& settings, const char* consequence) {
  if (!std::filesystem::is_regular_file(file)) {
    return false;
  }
  try {
    if (read_json_file(file).at("config").value("reproduce_settings", nlohmann::json()) == settings) {
      return true;
    }
    spdlog::warn("{}: made with other settings; {}", file.string(), consequence);
  } catch (const std::exception& error) {
    spdlog::warn("{}: unreadable ({}); {}", file.string(), error.what(), consequence);
  }
  return false;
}

/// Positive value of an optional integer flag, or a usage error naming it.
std::optional<int64_t> positive_option(const cxxopts::ParseResult& parsed, const std::string& name) {
  if (parsed.count(name) == 0) {
    return std::nullopt;
  }
  auto value = parsed[name].as<int64_t>();
  if (value <= 0) {
    throw UsageError(str("--", name, " ", value, ": must be positive"));
  }
  return value;
}

}  // namespace

int reproduce_command(int argc, char** argv) {
  cxxopts::Options options("dartquant reproduce",
                           "Run the rows of the DartQuant paper's table for one model: FP, and rtn, quarot and "
                           "dartquant at 4-4-16 and 4-4-4. Each row writes OUT/<row>.json; then OUT/table.json and "
                           "OUT/table.md. Rows already finished are kept, so rerunning continues an interrupted run.");
  options.add_options()
      ("model", "Preset (configs/models.json, e.g. mixtral, deepseek-moe, tiny-mixtral) or model folder",
       cxxopts::value<std::string>())
      ("rows", "Comma-separated rows (default: all): fp, rtn-4-4-16, quarot-4-4-16, dartquant-4-4-16, rtn-4-4-4, "
       "quarot-4-4-4, dartquant-4-4-4", cxxopts::value<std::string>())
      ("out-dir", "Folder of the results (default: results/reproduce/<model>)", cxxopts::value<std::string>())
      ("tasks", "Evaluation tasks of every row", cxxopts::value<std::string>()->default_value("paper"))
      ("limit", "Score only the first N windows / items of each task (per MMLU subject)", cxxopts::value<int64_t>())
      ("eval-seqlen", "Perplexity window in tokens (default: the model's, up to 2048)", cxxopts::value<int64_t>())
      ("nsamples", "Calibration windows (default: the preset's, else 128)", cxxopts::value<int64_t>())
      ("seqlen", "Calibration window length (default: the preset's, else 2048 or the model's maximum)",
       cxxopts::value<int64_t>())
      ("seed", "Seed of calibration sampling and random Hadamards", cxxopts::value<uint64_t>()->default_value("0"))
      ("set", "Profile override for every quantized row, e.g. --set weights.group_size=64 (repeatable)",
       cxxopts::value<std::vector<std::string>>())
      ("record-tolerances", "Store comparison tolerances in table.json as WIKI_PERCENT,TASK_POINTS,AVG_POINTS, "
       "e.g. 3,4.5,1 (for golden tables)", cxxopts::value<std::string>())
      ("data-dir", "Data folder (default: $DARTQUANT_DATA)", cxxopts::value<std::string>());
  add_runtime_options(options);

  auto parsed = parse_options(options, argc, argv);
  if (!parsed) {
    return 0;
  }
  apply_runtime_options(*parsed);
  auto model_text = required_string(*parsed, "model");
  auto rows = selected_rows(*parsed);

  // Resolve the model and every setting before the first row.
  auto data_dir = resolve_data_dir(*parsed);
  auto configs_dir = quant::locate_configs_dir();
  auto model = repro::resolve_model(model_text, configs_dir, data_dir);
  std::string name = model.preset ? model.preset->name : std::filesystem::path(model_text).filename().string();
  std::filesystem::path out_dir = parsed->count("out-dir") > 0 ? std::filesystem::path((*parsed)["out-dir"].as<std::string>())
                                                               : std::filesystem::path("results") / "reproduce" / name;
  std::filesystem::create_directories(out_dir);

  auto tasks = (*parsed)["tasks"].as<std::string>();
  auto limit = positive_option(*parsed, "limit");
  auto eval_seqlen = positive_option(*parsed, "eval-seqlen");
  int64_t nsamples = positive_option(*parsed, "nsamples").value_or(model.preset ? model.preset->nsamples : 128);
  auto seqlen = positive_option(*parsed, "seqlen");
  if (!seqlen && model.preset) {
    seqlen = model.preset->seqlen;
  }
  std::optional<repro::Tolerances> recorded_tolerances;
  if (parsed->count("record-tolerances") > 0) {
    auto values = split_list((*parsed)["record-tolerances"].as<std::string>());
    if (values.size() != 3) {
      throw UsageError("--record-tolerances needs three numbers: WIKI_PERCENT,TASK_POINTS,AVG_POINTS");
    }
    try {
      recorded_tolerances = repro::Tolerances{std::stod(values[0]), std::stod(values[1]), std::stod(values[2])};
    } catch (const std::exception&) {
      throw UsageError(str("--record-tolerances ", (*parsed)["record-tolerances"].as<std::string>(),
                           ": needs three numbers, e.g. 3,4.5,1"));
    }
  }

  std::vector<std::string> common{"--data-dir", data_dir.string(), "--device", (*parsed)["device"].as<std::string>(),
                                  "--dtype", (*parsed)["dtype"].as<std::string>(), "--threads",
                                  std::to_string((*parsed)["threads"].as<int>()), "--log-level",
                                  (*parsed)["log-level"].as<std::string>()};
  if (limit) {
    common.insert(common.end(), {"--limit", std::to_string(*limit)});
  }
  // The rotations depend on the calibration windows, so their settings name the file.
  auto rotations = out_dir / str("dartquant-rotations-seed", (*parsed)["seed"].as<uint64_t>(), "-n", nsamples, "-len",
                                 seqlen ? std::to_string(*seqlen) : std::string("default"), ".safetensors");

  // The subcommand arguments of every row of the table, selected or not, so
  // that the table can tell which earlier results match this run.
  auto row_arguments = [&](const TableRowPlan& row) {
    auto results = (out_dir / (row.id + ".json")).string();
    std::vector<std::string> arguments;
    if (row.method == "fp") {
      arguments = {"eval", "--model", model.dir.string(), "--tasks", tasks, "--output", results};
      if (eval_seqlen) {
        arguments.insert(arguments.end(), {"--seqlen", std::to_string(*eval_seqlen)});
      }
    } else {
      arguments = {"quantize", "--model", model.dir.string(), "--method", row.method, "--bits", row.bits,
                   "--nsamples", std::to_string(nsamples), "--seed", std::to_string((*parsed)["seed"].as<uint64_t>()),
                   "--eval", tasks, "--output", results};
      if (seqlen) {
        arguments.insert(arguments.end(), {"--seqlen", std::to_string(*seqlen)});
      }
      if (eval_seqlen) {
        arguments.insert(arguments.end(), {"--eval-seqlen", std::to_string(*eval_seqlen)});
      }
      if (parsed->count("set") > 0) {
        for (const auto& assignment : (*parsed)["set"].as<std::vector<std::string>>()) {
          arguments.insert(arguments.end(), {"--set", assignment});
        }
      }
      // DartQuant's rotations do not depend on the KV bits: the first dartquant
      // row learns them, the next reuses them.
      if (row.method == "dartquant") {
        arguments.insert(arguments.end(), {std::filesystem::exists(rotations) ? "--rotations" : "--save-rotations",
                                           rotations.string()});
      }
    }
    arguments.insert(arguments.end(), common.begin(), common.end());
    return arguments;
  };

  spdlog::info("reproduce {} from {}: {} row(s) into {}", name, model.dir.string(), rows.size(), out_dir.string());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    auto results = out_dir / (row.id + ".json");
    auto arguments = row_arguments(row);
    auto settings = row_settings(arguments);
    if (has_results(results, settings, "running the row again")) {
      spdlog::info("[{}/{}] {}: finished earlier ({}), skipped", i + 1, rows.size(), row.id, results.string());
      continue;
    }
    spdlog::info("[{}/{}] {}: {} at {}", i + 1, rows.size(), row.id, row.method, row.bits);
    std::printf("== %s ==\n", row.id.c_str());
    std::fflush(stdout);
    int code = run_subcommand(row.method == "fp" ? eval_command : quantize_command, arguments);
    DQ_CHECK(code == 0, "row ", row.id, " failed with exit code ", code);

    // Record the settings, so that a later run can tell whether it may keep the results.
    auto document = read_json_file(results);
    document["config"]["reproduce_settings"] = settings;
    io::write_file_atomically(results, document.dump(2) + "\n");
  }

  // The table of every row whose results match this run's settings, in the
  // DartQuant paper's row order.
  repro::ResultTable table;
  table.model = name;
  std::vector<tasks::TableRow> display;
  for (const auto& row : paper_rows()) {
    auto results = out_dir / (row.id + ".json");
    if (!has_results(results, row_settings(row_arguments(row)), "left out of the table")) {
      continue;
    }
    auto document = read_json_file(results);
    table.rows.push_back(repro::entry_from_results(document, results.string()));
    display.push_back(tasks::table_row(document, results.string()));
    display.back().model = name;
  }
  std::string command = "dartquant reproduce";
  for (int i = 1; i < argc; ++i) {
    command += std::string(" ") + argv[i];
  }
  table.details = {{"command", command}, {"tasks", tasks}, {"limit", limit ? nlohmann::json(*limit) : nlohmann::json()},
                   {"program", eval::describe_program()}};
  table.tolerances = recorded_tolerances;
  io::write_file_atomically(out_dir / "table.json", repro::table_to_json(table).dump(2) + "\n");
  auto markdown = tasks::render_markdown(display);
  io::write_file_atomically(out_dir / "table.md", markdown);
  std::fputs(markdown.c_str(), stdout);
  if (model.preset && !model.preset->reference_table.empty()) {
    spdlog::info("compare with: dartquant compare {} --reference {}{}", (out_dir / "table.json").string(),
                 (configs_dir / model.preset->reference_table).string(),
                 table.rows.size() < paper_rows().size() ? " --allow-missing-rows" : "");
  }
  return 0;
}

}  // namespace dartquant::cli
