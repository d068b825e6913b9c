#include "dartquant/export/inspect.h"

#include <regex>
#include <set>
#include <sstream>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/core/strings.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/export/compressed_tensors_config.h"
#include "dartquant/export/packed_model.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/io/dtype.h"
#include "dartquant/io/int_packing.h"

namespace dartquant::exporter {
namespace {

constexpr const char* kPackedSuffix = ".weight_packed";

/// Splits "model.layers.3.mlp.experts.7.w1" into layer 3 and "mlp.experts.*.w1";
/// -1 for names outside the decoder layers.
std::pair<int64_t, std::string> layer_and_module(const std::string& module) {
  static const std::regex layer_pattern(R"(^model\.layers\.(\d+)\.(.*)$)");
  static const std::regex expert_pattern(R"(\.experts\.\d+\.)");
  std::smatch match;
  if (!std::regex_match(module, match, layer_pattern)) {
    return {-1, module};
  }
  return {std::stoll(match[1].str()), std::regex_replace(match[2].str(), expert_pattern, ".experts.*.")};
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}

std::string describe_scheme(const quant::QuantSpec& spec, const std::string& scale_dtype) {
  return str("int", spec.bits, spec.symmetric ? " symmetric" : " asymmetric",
             spec.group_size == 0 ? std::string(" per channel") : str(" in groups of ", spec.group_size), ", ",
             scale_dtype, " scales (pack-quantized)");
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

}  // namespace

double FolderSummary::bits_per_parameter() const {
  return packed_parameters == 0 ? 0.0 : 8.0 * static_cast<double>(packed_bytes) / static_cast<double>(packed_parameters);
}

double FolderSummary::size_ratio() const {
  auto reference = fp16_linear_bytes() + kept_bytes;
  return reference == 0 ? 0.0 : static_cast<double>(file_bytes) / static_cast<double>(reference);
}

nlohmann::json FolderSummary::to_json() const {
  nlohmann::json layer_list = nlohmann::json::array();
  for (const auto& layer : layers) {
    layer_list.push_back({{"layer", layer.layer}, {"formats", layer.modules_by_format}});
  }
  return {{"architecture", architecture},
          {"quantization", quantization},
          {"weight_format", weight_format},
          {"layers", layer_list},
          {"full_precision", full_precision},
          {"packed_parameters", packed_parameters},
          {"packed_bytes", packed_bytes},
          {"kept_bytes", kept_bytes},
          {"file_bytes", file_bytes},
          {"fp16_linear_bytes", fp16_linear_bytes()},
          {"bits_per_parameter", bits_per_parameter()},
          {"size_ratio", size_ratio()}};
}

FolderSummary summarize_folder(const std::filesystem::path& dir) {
  auto config_path = dir / "config.json";
  DQ_CHECK(std::filesystem::is_regular_file(config_path), config_path.string(),
           ": not found; pass a Hugging Face model folder");
  auto config = read_json_file(config_path);
  auto checkpoint = io::Checkpoint::open(dir);

  FolderSummary summary;
  summary.architecture = {{"model_type", config.value("model_type", "?")},
                          {"num_hidden_layers", config.value("num_hidden_layers", 0)},
                          {"hidden_size", config.value("hidden_size", 0)},
                          {"num_attention_heads", config.value("num_attention_heads", 0)},
                          {"num_key_value_heads", config.value("num_key_value_heads", 0)},
                          {"vocab_size", config.value("vocab_size", 0)},
                          {"torch_dtype", config.value("torch_dtype", "?")}};
  for (const char* key : {"num_local_experts", "n_routed_experts"}) {
    if (config.contains(key)) {
      summary.architecture["experts"] = config.at(key);
    }
  }
  summary.quantization = config.value("dartquant", nlohmann::json());
  if (summary.quantization.is_object()) {
    read_dartquant_block(summary.quantization, config_path.string());  // rejects what eval would reject
  }
  auto scheme = read_weight_scheme(config, config_path.string());

  // Modules stored packed, and which of their tensors belong to the packing.
  std::set<std::string> packed_tensors;
  std::map<int64_t, LayerFormats> layers;
  std::string scale_dtype;
  for (const auto& name : checkpoint.names()) {
    if (!ends_with(name, kPackedSuffix)) {
      continue;
    }
    auto module = name.substr(0, name.size() - std::string(kPackedSuffix).size());
    for (const char* field : {".weight_packed", ".weight_scale", ".weight_zero_point", ".weight_shape"}) {
      if (checkpoint.contains(module + field)) {
        packed_tensors.insert(module + field);
        summary.packed_bytes += static_cast<int64_t>(checkpoint.info(module + field).nbytes());
      }
    }
    DQ_CHECK(checkpoint.contains(module + ".weight_shape") && checkpoint.contains(module + ".weight_scale"), dir.string(),
             ": ", module, " has weight_packed but no weight_shape or weight_scale; the folder is incomplete");
    auto shape = checkpoint.load(module + ".weight_shape").to(at::kLong);
    DQ_CHECK(shape.numel() == 2, dir.string(), ": ", module, ".weight_shape must contain 2 values");
    const int64_t out = shape[0].item<int64_t>();
    const int64_t in = shape[1].item<int64_t>();
    summary.packed_parameters += out * in;
    if (scheme) {
      // The same shape checks as unpacking, from the headers alone.
      const auto& packed_shape = checkpoint.info(name).shape;
      const auto& scale_shape = checkpoint.info(module + ".weight_scale").shape;
      DQ_CHECK(packed_shape == std::vector<int64_t>({out, io::packed_words(in, scheme->bits)}), dir.string(), ": ", name,
               " has shape ", shape_text(packed_shape), ", but ", in, " inputs of ", scheme->bits, " bits need [", out,
               ", ", io::packed_words(in, scheme->bits), "]; the folder does not match its quantization_config");
      DQ_CHECK(scale_shape == std::vector<int64_t>({out, quant::group_count(in, scheme->group_size)}), dir.string(),
               ": ", module, ".weight_scale has shape ", shape_text(scale_shape), ", expected [", out, ", ",
               quant::group_count(in, scheme->group_size), "]; the folder does not match its quantization_config");
    }
    scale_dtype = io::dtype_name(checkpoint.info(module + ".weight_scale").dtype);

    auto [layer, local] = layer_and_module(module);
    auto format = scheme ? str("int", scheme->bits) : std::string("packed");
    auto& modules = layers[layer].modules_by_format[format];
    if (std::find(modules.begin(), modules.end(), local) == modules.end()) {
      modules.push_back(local);
    }
  }
  if (scheme) {
    summary.weight_format = describe_scheme(*scheme, scale_dtype);
  }

  for (const auto& name : checkpoint.names()) {
    if (packed_tensors.count(name) > 0) {
      continue;
    }
    const auto& info = checkpoint.info(name);
    summary.kept_bytes += static_cast<int64_t>(info.nbytes());
    auto dtype = io::dtype_name(info.dtype);
    auto [layer, local] = layer_and_module(name);
    if (layer < 0) {
      summary.full_precision.push_back(name + " " + shape_text(info.shape) + " " + dtype);
    }
    if (ends_with(local, ".weight") && local.find("norm") == std::string::npos) {
      auto& modules = layers[layer].modules_by_format[dtype];
      auto module = local.substr(0, local.size() - 7);
      if (std::find(modules.begin(), modules.end(), module) == modules.end()) {
        modules.push_back(module);
      }
    }
  }
  for (auto& [layer, formats] : layers) {
    if (layer >= 0) {
      formats.layer = layer;
      summary.layers.push_back(formats);
    }
  }

  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      summary.file_bytes += static_cast<int64_t>(entry.file_size());
    }
  }
  return summary;
}

std::string format_summary(const FolderSummary& summary, const std::filesystem::path& dir) {
  std::ostringstream out;
  const auto& arch = summary.architecture;
  out << "model: " << dir.string() << "\n";
  out << "architecture: " << arch.value("model_type", "?") << ", " << arch.value("num_hidden_layers", 0)
      << " layers, hidden " << arch.value("hidden_size", 0) << ", " << arch.value("num_attention_heads", 0) << " heads / "
      << arch.value("num_key_value_heads", 0) << " KV heads, vocab " << arch.value("vocab_size", 0);
  if (arch.contains("experts")) {
    out << ", " << arch.at("experts").dump() << " experts";
  }
  out << ", stored as " << arch.value("torch_dtype", "?") << "\n";

  const auto& q = summary.quantization;
  if (q.is_object()) {
    out << "quantization: " << q.value("method", "?") << " " << q.value("bits", "?") << ", profile "
        << q.value("profile", nlohmann::json::object()).value("name", "?") << ", weights by "
        << q.value("weight_quantizer", "?") << ", seed " << q.value("seed", 0) << ", dartquant "
        << q.value("tool_version", "?") << "\n";
    std::string transforms;
    for (const auto& transform : q.value("online_transforms", nlohmann::json::array())) {
      transforms += (transforms.empty() ? "" : ", ") + transform.value("name", "?") + " (" +
                    transform.value("location", "?") + ")";
    }
    out << "online transforms: " << (transforms.empty() ? "none" : transforms) << "\n";
  } else {
    out << "quantization: " << (summary.packed_parameters > 0 ? "compressed-tensors (no dartquant block)" : "none")
        << "\n";
  }
  if (!summary.weight_format.empty()) {
    out << "weights: " << summary.weight_format << "\n";
  }

  out << "per layer:\n";
  for (const auto& layer : summary.layers) {
    out << "  layer " << layer.layer << ":";
    for (const auto& [format, modules] : layer.modules_by_format) {
      out << " " << format << " {";
      for (size_t i = 0; i < modules.size(); ++i) {
        out << (i == 0 ? "" : ", ") << modules[i];
      }
      out << "}";
    }
    out << "\n";
  }
  out << "kept in full precision (outside the decoder layers):\n";
  for (const auto& tensor : summary.full_precision) {
    out << "  " << tensor << "\n";
  }

  char line[256];
  std::snprintf(line, sizeof(line), "packed Linears: %.2f MiB for %lld parameters, %.3f bits per parameter\n",
                mib(summary.packed_bytes), static_cast<long long>(summary.packed_parameters),
                summary.bits_per_parameter());
  out << line;
  std::snprintf(line, sizeof(line), "other tensors: %.2f MiB; files: %.2f MiB\n", mib(summary.kept_bytes),
                mib(summary.file_bytes));
  out << line;
  if (summary.packed_parameters > 0) {
    std::snprintf(line, sizeof(line),
                  "size: %.3f x (fp16 Linear weights %.2f MiB + other tensors %.2f MiB); packed Linears alone "
                  "%.3f x their fp16 size\n",
                  summary.size_ratio(), mib(summary.fp16_linear_bytes()), mib(summary.kept_bytes),
                  static_cast<double>(summary.packed_bytes) / static_cast<double>(summary.fp16_linear_bytes()));
    out << line;
  }
  return out.str();
}

}  // namespace dartquant::exporter
