// load_model and the reading of the dartquant block.
#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/core/strings.h"
#include "dartquant/export/compressed_tensors_config.h"
#include "dartquant/export/packed_model.h"
#include "dartquant/io/safetensors_writer.h"
#include "dartquant/quant/profile.h"

namespace dartquant::exporter {
namespace {

/// Rebuilds pack-quantized Linear weights in the compute dtype.
model::WeightDecoder packed_decoder(const quant::QuantSpec& spec, at::ScalarType dtype) {
  return [spec, dtype](const io::Checkpoint& checkpoint, const std::string& name,
                       const std::vector<int64_t>& /*shape: checked by the loader*/) -> model::DecodedWeight {
    if (name.size() <= 7 || !ends_with(name, ".weight")) {
      return {};
    }
    auto module = module_of(name);
    if (!checkpoint.contains(module + ".weight_packed")) {
      return {};
    }
    PackedLinear packed;
    std::vector<std::string> consumed;
    auto read = [&](const std::string& field, bool required) {
      auto tensor_name = module + "." + field;
      if (!checkpoint.contains(tensor_name)) {
        DQ_CHECK(!required, "tensor ", tensor_name, " is missing from the packed checkpoint ",
                 checkpoint.path().string(), "; the folder is incomplete");
        return at::Tensor();
      }
      consumed.push_back(tensor_name);
      return checkpoint.load(tensor_name);
    };
    packed.weight_packed = read("weight_packed", true);
    packed.weight_scale = read("weight_scale", true);
    packed.weight_shape = read("weight_shape", true);
    packed.weight_zero_point = read("weight_zero_point", false);
    DQ_CHECK(at::isfinite(packed.weight_scale).all().item<bool>(), "tensor ", module,
             ".weight_scale contains NaN or Inf values; the checkpoint is corrupt");
    return {dequantize_linear(packed, spec, dtype, module), consumed};
  };
}

/// Checks that a stored norm weight is all ones and drops it: the quantized
/// model applied that norm without a weight.
void unfold_norm(at::Tensor& weight, const std::string& name, const std::string& source) {
  DQ_CHECK(at::all(weight == 1).item<bool>(), source, ": the dartquant block says the norms are folded, but ", name,
           " is not all ones; the folder was modified after quantization");
  weight = at::Tensor();
}

}  // namespace

RuntimeSettings read_dartquant_block(const nlohmann::json& block, const std::string& source) {
  FieldReader reader(block, source, "dartquant",
                     {"format_version", "tool_version", "method", "bits", "weight_quantizer", "profile", "seed",
                      "center_embeddings", "norms_folded", "scale_dtype", "calibration", "hadamard",
                      "online_transforms"});
  auto version = reader.integer("format_version");
  DQ_CHECK(version == kPackedFormatVersion, source, ": dartquant.format_version ", version,
           " is not supported by this build (it reads version ", kPackedFormatVersion,
           "); quantize the model again or use a matching dartquant");
  RuntimeSettings settings;
  settings.options.method = quant::parse_method(reader.string("method"));
  settings.options.profile = quant::profile_from_json(reader.require("profile"), source + " (dartquant.profile)");
  settings.options.center_embeddings = reader.boolean("center_embeddings");
  settings.norms_folded = reader.boolean("norms_folded");
  return settings;
}

model::CausalLM load_model(const std::filesystem::path& dir, const ComputeOptions& compute,
                           model::LayerLoading loading) {
  auto config_path = dir / "config.json";
  DQ_CHECK(std::filesystem::is_regular_file(config_path), config_path.string(),
           ": not found; --model must be a Hugging Face model folder");
  auto config = read_json_file(config_path);
  auto scheme = read_weight_scheme(config, config_path.string());
  if (!scheme) {
    return model::CausalLM::load(dir, compute, {}, loading);
  }

  auto model = model::CausalLM::load(dir, compute, packed_decoder(*scheme, compute.dtype), loading);
  if (!config.contains("dartquant")) {
    const auto& quantization = config.at("quantization_config");
    bool declares_runtime = !quantization.value("kv_cache_scheme", nlohmann::json()).is_null();
    for (const auto& [name, group] : quantization.at("config_groups").items()) {
      declares_runtime = declares_runtime || !group.value("input_activations", nlohmann::json()).is_null();
    }
    if (declares_runtime) {
      spdlog::warn("{}: a compressed-tensors model without a dartquant block; its weights are unpacked, but its "
                   "activation and KV-cache quantization is not applied",
                   dir.string());
    }
    return model;
  }

  auto settings = read_dartquant_block(config.at("dartquant"), config_path.string());
  auto source = config_path.string();
  const auto& model_config = model.config();
  // The same steps for every layer, now or (layers loaded on demand) as each is read.
  auto setup = [settings, source, model_config](model::DecoderLayer& layer) {
    if (settings.norms_folded) {
      auto prefix = "model.layers." + std::to_string(layer.index()) + ".";
      unfold_norm(layer.input_layernorm, prefix + "input_layernorm.weight", source);
      unfold_norm(layer.post_attention_layernorm, prefix + "post_attention_layernorm.weight", source);
    }
    quant::restore_online_quantization(layer, model_config, settings.options);
  };
  if (settings.norms_folded) {
    unfold_norm(model.final_norm, "model.norm.weight", source);
  }
  if (model.loads_layers_on_demand()) {
    model.set_layer_setup(setup);
  } else {
    for (auto& layer : model.layers()) {
      setup(layer);
    }
  }
  spdlog::info("packed {} model ({}, {} bits): weights unpacked, online transforms and quantizers restored",
               quant::method_name(settings.options.method), settings.options.profile.name,
               quant::bits_label(settings.options.profile));
  return model;
}

int64_t write_dequantized_weights(const std::filesystem::path& dir, const std::filesystem::path& out) {
  auto config_path = dir / "config.json";
  DQ_CHECK(std::filesystem::is_regular_file(config_path), config_path.string(),
           ": not found; pass a packed model folder");
  auto scheme = read_weight_scheme(read_json_file(config_path), config_path.string());
  DQ_CHECK(scheme.has_value(), config_path.string(), ": no quantization_config; the folder holds no packed weights");
  auto checkpoint = io::Checkpoint::open(dir);
  auto decode = packed_decoder(*scheme, at::kFloat);

  static const std::string kPacked = ".weight_packed";
  std::vector<std::pair<std::string, at::Tensor>> weights;
  for (const auto& name : checkpoint.names()) {
    if (name.size() > kPacked.size() && ends_with(name, kPacked)) {
      auto weight_name = name.substr(0, name.size() - kPacked.size()) + ".weight";
      weights.emplace_back(weight_name, decode(checkpoint, weight_name, {}).weight);
    }
  }
  io::write_safetensors(out, weights);
  return static_cast<int64_t>(weights.size());
}

}  // namespace dartquant::exporter
