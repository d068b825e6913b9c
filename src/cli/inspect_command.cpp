// dartquant inspect: describes a model folder (architecture, quantization,
// per-layer formats, sizes).
#include <cstdio>

#include <spdlog/spdlog.h>

#include "cli_options.h"
#include "dartquant/cli/commands.h"
#include "dartquant/export/inspect.h"
#include "dartquant/export/packed_model.h"

namespace dartquant::cli {

int inspect_command(int argc, char** argv) {
  cxxopts::Options options("dartquant inspect",
                           "Show a model folder's architecture, quantization method and bits, per-layer formats, "
                           "bits per parameter, size and the tensors kept in full precision");
  options.add_options()
      ("model", "Model folder (FP or packed)", cxxopts::value<std::string>())
      ("json", "Print the summary as JSON")
      ("dequantize", "Also write every packed Linear's dense float32 weight, as eval rebuilds it, to the "
       "safetensors FILE (to compare with other tools)", cxxopts::value<std::string>());
  options.parse_positional({"model"});
  options.positional_help("DIR");

  auto parsed = parse_options(options, argc, argv);
  if (!parsed) {
    return 0;
  }
  std::filesystem::path dir = required_string(*parsed, "model");
  auto summary = exporter::summarize_folder(dir);
  auto text = parsed->count("json") > 0 ? summary.to_json().dump(2) + "\n" : exporter::format_summary(summary, dir);
  std::fputs(text.c_str(), stdout);
  if (parsed->count("dequantize") > 0) {
    std::filesystem::path out = (*parsed)["dequantize"].as<std::string>();
    auto count = exporter::write_dequantized_weights(dir, out);
    spdlog::info("wrote {} dense weights to {}", count, out.string());
  }
  return 0;
}

}  // namespace dartquant::cli
