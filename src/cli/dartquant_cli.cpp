#include "dartquant_cli.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/calibration/dartquant_settings.h"
#include "dartquant/calibration/rotations_file.h"
#include "dartquant/core/error.h"
#include "dartquant/core/hash.h"
#include "dartquant/quant/configs_dir.h"

namespace dartquant::cli {
namespace {

namespace fs = std::filesystem;

const char* const kDartquantOnly[] = {"rotations",   "save-rotations", "calib-state",  "no-resume",
                                      "r1-lr",          "r2-lr",        "r1-lr-sweep",
                                      "epochs",      "optimizer",      "r1-batch",     "r2-batch",
                                      "r2-accumulation", "r1-fraction"};

/// The message printed when SIGINT or SIGTERM stops a calibration, formatted
/// beforehand because a signal handler may only call async-signal-safe functions.
char interrupt_message[2048];
size_t interrupt_length = 0;

extern "C" void stop_calibration(int) {
  ssize_t ignored = write(STDERR_FILENO, interrupt_message, interrupt_length);
  (void)ignored;
  _exit(130);
}

/// Tells the user how to resume when the calibration is interrupted. Every
/// state file is replaced atomically, so stopping at once loses at most the
/// layer in progress. A signal that was ignored at start-up (e.g. SIGINT of a
/// background job) stays ignored.
class InterruptNotice {
 public:
  explicit InterruptNotice(const fs::path& state_dir) {
    interrupt_length = static_cast<size_t>(std::snprintf(
        interrupt_message, sizeof(interrupt_message),
        "\ninterrupted: finished layers are kept in %s; run the same command again to resume\n",
        state_dir.string().c_str()));
    interrupt_length = std::min(interrupt_length, sizeof(interrupt_message) - 1);
    install(SIGINT, previous_int_);
    install(SIGTERM, previous_term_);
  }

  ~InterruptNotice() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
  }

  InterruptNotice(const InterruptNotice&) = delete;
  InterruptNotice& operator=(const InterruptNotice&) = delete;

 private:
  static void install(int signal_number, struct sigaction& previous) {
    sigaction(signal_number, nullptr, &previous);
    if (previous.sa_handler == SIG_IGN) {
      return;
    }
    struct sigaction action {};
    action.sa_handler = stop_calibration;
    sigemptyset(&action.sa_mask);
    sigaction(signal_number, &action, nullptr);
  }

  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

std::vector<double> parse_rate_list(const std::string& text) {
  std::vector<double> rates;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    char* end = nullptr;
    double rate = std::strtod(item.c_str(), &end);
    if (item.empty() || end == nullptr || *end != '\0' || !(rate > 0)) {
      throw UsageError(str("--r1-lr-sweep ", text, ": expected positive learning rates separated by commas, e.g. ",
                           "0.001,0.002,0.008"));
    }
    rates.push_back(rate);
  }
  return rates;
}

/// Defaults and the model's preset from configs/dartquant.json, then the flags.
calibration::DartQuantSettings resolve_settings(const cxxopts::ParseResult& parsed, const model::ModelConfig& config) {
  auto settings = calibration::load_dartquant_settings(quant::locate_configs_dir() / "dartquant.json", config);

  if (parsed.count("optimizer") > 0) {
    settings.r1.optimizer = settings.r2.optimizer = parsed["optimizer"].as<std::string>();
  }
  if (parsed.count("epochs") > 0) {
    settings.r1.epochs = settings.r2.epochs = parsed["epochs"].as<int64_t>();
  }

  if (parsed.count("r1-lr") > 0) {
    settings.r1.learning_rate = parsed["r1-lr"].as<double>();
    settings.r1_lr_sweep.clear();  // an explicit rate replaces the preset's sweep
  }
  if (parsed.count("r1-lr-sweep") > 0) {
    settings.r1_lr_sweep = parse_rate_list(parsed["r1-lr-sweep"].as<std::string>());
  }

  if (parsed.count("r2-lr") > 0) {
    settings.r2.learning_rate = parsed["r2-lr"].as<double>();
  }
  if (parsed.count("r1-batch") > 0) {
    settings.r1.batch = parsed["r1-batch"].as<int64_t>();
  }
  if (parsed.count("r2-batch") > 0) {
    settings.r2.batch = parsed["r2-batch"].as<int64_t>();
  }
  if (parsed.count("r2-accumulation") > 0) {
    settings.r2.accumulation = parsed["r2-accumulation"].as<int64_t>();
  }
  if (parsed.count("r1-fraction") > 0) {
    settings.r1_fraction = parsed["r1-fraction"].as<double>();
    if (!(settings.r1_fraction > 0 && settings.r1_fraction <= 1)) {
      throw UsageError(str("--r1-fraction ", settings.r1_fraction, ": must be in (0, 1]"));
    }
  }

  calibration::validate(settings.r1, "R1");
  calibration::validate(settings.r2, "R2");
  return settings;
}

/// Describes everything that determines the learned rotations, so that a
/// state folder made for another identity is not resumed. Weight files are identified by size and time
/// (hashing a large checkpoint would take minutes).
nlohmann::json run_identity(const fs::path& model_dir, const at::Tensor& windows, const quant::QuantizeOptions& quantize,
                            const calibration::CalibrationOptions& options, const ComputeOptions& compute) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& entry : fs::directory_iterator(model_dir)) {
    auto name = entry.path().filename().string();
    if (entry.is_regular_file() && (entry.path().extension() == ".safetensors" || name == "config.json")) {
      files.push_back({name, entry.file_size(), entry.last_write_time().time_since_epoch().count()});
    }
  }
  std::sort(files.begin(), files.end());
  auto ids = windows.contiguous();
  return {{"model", fs::absolute(model_dir).lexically_normal().string()},
          {"files", files},
          {"windows_sha256", sha256_hex(ids.data_ptr(), static_cast<size_t>(ids.numel() * ids.element_size()))},
          {"windows", ids.sizes().vec()},
          {"center_embeddings", quantize.center_embeddings},
          {"seed", options.seed},
          {"batch_size", options.batch_size},
          {"dtype", std::string(c10::toString(compute.dtype))},
          {"settings", options.settings.to_json()}};
}

fs::path default_state_dir(const std::string& identity) {
  fs::path cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    cache = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    cache = fs::path(home) / ".cache";
  } else {
    cache = fs::temp_directory_path();
  }
  return cache / "dartquant" / "calibration" / sha256_hex(identity.data(), identity.size()).substr(0, 16);
}

nlohmann::json load_rotations_into(const fs::path& file, const model::ModelConfig& config,
                                   quant::QuantizeOptions& quantize) {
  auto rotations = calibration::load_rotations(file, config);
  auto metadata = calibration::rotations_metadata(file);
  auto centered = metadata.find("center_embeddings");
  std::string expected = quantize.center_embeddings ? "true" : "false";
  if (centered != metadata.end() && centered->second != expected) {
    spdlog::warn("{} was learned with center_embeddings={}, this run uses {}; the rotations stay orthogonal but "
                 "were fitted to slightly different activations",
                 file.string(), centered->second, expected);
  }
  quantize.r1 = rotations.r1;
  quantize.r2 = rotations.r2;
  spdlog::info("rotations loaded from {} (calibration skipped)", file.string());
  return {{"rotations", fs::absolute(file).lexically_normal().string()}, {"metadata", metadata}};
}

}  // namespace

void add_dartquant_options(cxxopts::Options& options) {
  options.add_options("DartQuant")
      ("rotations", "Reuse rotations saved by --save-rotations and skip calibration", cxxopts::value<std::string>())
      ("save-rotations", "Write the learned R1/R2 to FILE (safetensors)", cxxopts::value<std::string>())
      ("calib-state", "Folder for the resumable calibration state and spill files "
                      "(default: ~/.cache/dartquant/calibration/<run hash>)",
       cxxopts::value<std::string>())
      ("no-resume", "Ignore a saved calibration state and start over")
      ("optimizer", "sgd (momentum 0.9) or adam, for R1 and R2 (default: sgd)", cxxopts::value<std::string>())
      ("epochs", "Epochs for R1 and R2 (default: 10)", cxxopts::value<int64_t>())
      ("r1-lr", "R1 learning rate (default: the model's preset in configs/dartquant.json)",
       cxxopts::value<double>())
      ("r1-lr-sweep", "Try these R1 learning rates and keep the lowest final Whip loss, e.g. 0.001,0.002,0.008",
       cxxopts::value<std::string>())
      ("r2-lr", "R2 learning rate (default: 0.001)", cxxopts::value<double>())
      ("r1-batch", "R1 chunks per batch (default: 64)", cxxopts::value<int64_t>())
      ("r2-batch", "R2 sequences per batch (default: 64)", cxxopts::value<int64_t>())
      ("r2-accumulation", "R2 batches per optimizer step (default: 2)", cxxopts::value<int64_t>())
      ("r1-fraction", "Share of (sequence, layer, site) chunks R1 trains on (default: 0.1)",
       cxxopts::value<double>());
}

void check_dartquant_options(const cxxopts::ParseResult& parsed, quant::Method method) {
  if (method != quant::Method::kDartquant) {
    for (const char* name : kDartquantOnly) {
      if (parsed.count(name) > 0) {
        throw UsageError(str("--", name, " applies to --method dartquant only"));
      }
    }
    return;
  }
  if (parsed.count("rotations") > 0 && parsed.count("save-rotations") > 0) {
    throw UsageError("--rotations and --save-rotations together: the rotations are loaded, not learned; copy the "
                     "file instead");
  }
  if (parsed.count("rotations") > 0) {
    fs::path file = parsed["rotations"].as<std::string>();
    DQ_CHECK(fs::is_regular_file(file), file.string(), ": rotations file not found (--rotations)");
  }
  if (parsed.count("r1-lr-sweep") > 0) {
    parse_rate_list(parsed["r1-lr-sweep"].as<std::string>());
  }
}

bool learns_rotations(const cxxopts::ParseResult& parsed, quant::Method method) {
  return method == quant::Method::kDartquant && parsed.count("rotations") == 0;
}

int64_t parse_byte_size(const std::string& text, const std::string& option) {
  size_t end = 0;
  double value = 0;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  std::string unit = text.substr(end);
  static const std::pair<const char*, int> kUnits[] = {{"", 0},    {"B", 0},   {"K", 1},   {"KiB", 1}, {"KB", 1},
                                                       {"M", 2},   {"MiB", 2}, {"MB", 2},  {"G", 3},   {"GiB", 3},
                                                       {"GB", 3},  {"T", 4},   {"TiB", 4}, {"TB", 4}};
  for (const auto& [name, power] : kUnits) {
    double bytes = value * static_cast<double>(int64_t{1} << (10 * power));
    if (end > 0 && unit == name && bytes >= 0 && bytes < 9e18) {  // the comparisons also reject NaN and inf
      return static_cast<int64_t>(bytes);
    }
  }
  throw UsageError(str(option, " ", text, ": expected a size such as 512MiB, 8GiB or a number of bytes"));
}

nlohmann::json prepare_dartquant_rotations(const cxxopts::ParseResult& parsed, const fs::path& model_dir,
                                           model::CausalLM& model, const at::Tensor& windows,
                                           const ComputeOptions& compute, quant::QuantizeOptions& quantize,
                                           int64_t chunk_memory) {
  const auto& config = model.config();
  if (parsed.count("rotations") > 0) {
    return load_rotations_into(parsed["rotations"].as<std::string>(), config, quantize);
  }

  calibration::CalibrationOptions options;
  options.settings = resolve_settings(parsed, config);
  options.seed = quantize.seed;
  options.batch_size = quantize.batch_size;
  options.max_memory = chunk_memory;
  auto identity = run_identity(model_dir, windows, quantize, options, compute);
  options.identity = identity.dump();
  options.state_dir = parsed.count("calib-state") > 0 ? fs::path(parsed["calib-state"].as<std::string>())
                                                      : default_state_dir(options.identity);
  if (parsed.count("no-resume") > 0) {
    std::error_code error;
    fs::remove_all(options.state_dir, error);
  }
  spdlog::info("DartQuant settings: preset {}, R1 {} lr {} ({} epochs, batch {}), R2 {} lr {} (batch {}, "
               "accumulation {}); state in {}",
               options.settings.preset, options.settings.r1.optimizer, options.settings.r1.learning_rate,
               options.settings.r1.epochs, options.settings.r1.batch, options.settings.r2.optimizer,
               options.settings.r2.learning_rate, options.settings.r2.batch, options.settings.r2.accumulation,
               options.state_dir.string());

  calibration::CalibrationReport report;
  calibration::LearnedRotations rotations;
  {
    InterruptNotice notice(options.state_dir);
    rotations = calibration::calibrate_dartquant(model, windows, options, &report);
  }
  quantize.r1 = rotations.r1;
  quantize.r2 = rotations.r2;

  nlohmann::json block = {{"settings", options.settings.to_json()},
                          {"max_memory", options.max_memory},
                          {"report", report.to_json()}};
  if (parsed.count("save-rotations") > 0) {
    fs::path file = parsed["save-rotations"].as<std::string>();
    calibration::save_rotations(file, rotations, config,
                                {{"seed", std::to_string(quantize.seed)},
                                 {"center_embeddings", quantize.center_embeddings ? "true" : "false"},
                                 {"settings", options.settings.to_json().dump()},
                                 {"identity", options.identity}});
    spdlog::info("rotations written to {}", file.string());
    block["rotations"] = fs::absolute(file).lexically_normal().string();
  }
  return block;
}

}  // namespace dartquant::cli
