#include "cli_options.h"

#include <iostream>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/logging.h"

namespace dartquant::cli {

std::optional<cxxopts::ParseResult> parse_options(cxxopts::Options& options, int argc, char** argv) {
  options.add_options()("h,help", "Print this help and exit");
  cxxopts::ParseResult parsed;
  try {
    parsed = options.parse(argc, argv);
  } catch (const std::exception& error) {
    throw UsageError(str(error.what(), "; run with --help for the list of options"));
  }
  if (parsed.count("help") > 0) {
    std::cout << options.help() << std::endl;
    return std::nullopt;
  }
  if (!parsed.unmatched().empty()) {
    throw UsageError(str("unexpected argument \"", parsed.unmatched().front(),
                         "\"; run with --help for the list of options"));
  }
  return parsed;
}

void add_runtime_options(cxxopts::Options& options) {
  options.add_options("Runtime")
      ("device", "Compute device: cpu, cuda or cuda:N", cxxopts::value<std::string>()->default_value("cpu"))
      ("dtype", "Compute dtype: float32, float64, bfloat16 (float16 on CUDA only)",
       cxxopts::value<std::string>()->default_value("float32"))
      ("threads", "Intra-op CPU threads; 0 uses every core", cxxopts::value<int>()->default_value("0"))
      ("log-level", "Log level on stderr: trace, debug, info, warn, error, off",
       cxxopts::value<std::string>()->default_value("info"));
}

ComputeOptions apply_runtime_options(const cxxopts::ParseResult& parsed) {
  configure_logging(parsed["log-level"].as<std::string>());
  int threads = parsed["threads"].as<int>();
  if (threads < 0) {
    throw UsageError(str("--threads ", threads, ": must be 0 (all cores) or positive"));
  }
  int active = configure_threads(threads);

  ComputeOptions compute;
  compute.device = parse_device(parsed["device"].as<std::string>());
  compute.dtype = parse_compute_dtype(parsed["dtype"].as<std::string>(), compute.device);
  spdlog::info("compute: {} on {}, {} thread(s)", dtype_name(compute.dtype), compute.device.str(), active);
  return compute;
}

std::string required_string(const cxxopts::ParseResult& parsed, const std::string& name) {
  if (parsed.count(name) == 0) {
    throw UsageError(str("--", name, " is required; run with --help for the list of options"));
  }
  return parsed[name].as<std::string>();
}

}  // namespace dartquant::cli
