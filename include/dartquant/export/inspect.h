// Summary of a model folder's contents: architecture, quantization, per-layer
// formats and sizes, as `dartquant inspect` prints it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dartquant::exporter {

/// Formats of the modules of one decoder layer, e.g. "int4 sym per channel"
/// -> ["q_proj", "experts.*.w1", ...] (expert indices folded into "*").
struct LayerFormats {
  int64_t layer = 0;
  std::map<std::string, std::vector<std::string>> modules_by_format;
};

struct FolderSummary {
  nlohmann::json architecture;  ///< model_type, layers, hidden, heads, experts
  nlohmann::json quantization;  ///< method, bits, profile, ... from the dartquant block (null for FP)
  std::string weight_format;    ///< e.g. "int4 symmetric per channel, float32 scales (pack-quantized)"
  std::vector<LayerFormats> layers;
  std::vector<std::string> full_precision;  ///< tensors outside the packed Linears: "name [shape] dtype"

  int64_t packed_parameters = 0;  ///< weights stored packed (Σ out·in)
  int64_t packed_bytes = 0;       ///< packed codes, scales, zero points and shapes
  int64_t kept_bytes = 0;         ///< every other tensor, as stored
  int64_t file_bytes = 0;         ///< all files of the folder

  /// Bits per packed parameter, scales and zero points included.
  double bits_per_parameter() const;
  /// Bytes of the packed Linears in fp16: 2·packed_parameters.
  int64_t fp16_linear_bytes() const { return 2 * packed_parameters; }
  /// file_bytes / (fp16_linear_bytes + kept_bytes): the folder against an
  /// fp16 checkpoint of the same model.
  double size_ratio() const;

  nlohmann::json to_json() const;
};

/// Reads config.json and the safetensors headers of `dir` (no tensor data
/// except the weight_shape vectors). Throws dartquant::Error naming the file.
FolderSummary summarize_folder(const std::filesystem::path& dir);

/// The summary as text for a terminal.
std::string format_summary(const FolderSummary& summary, const std::filesystem::path& dir);

}  // namespace dartquant::exporter
