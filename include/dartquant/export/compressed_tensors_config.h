// The `quantization_config` block of config.json in the compressed-tensors
// convention (compressed-tensors 0.20: QuantizationConfig, QuantizationArgs,
// TransformConfig), written for our packed models and read back for any
// pack-quantized checkpoint.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dartquant/model/causal_lm.h"
#include "dartquant/quant/model_quantizer.h"

namespace dartquant::exporter {

/// compressed-tensors release whose field names and packing this follows.
inline constexpr const char* kCompressedTensorsVersion = "0.20.1";

/// QuantizationArgs of an integer quantizer: strategy "channel" (weights) or
/// "token" (activations) for group_size 0, else "group".
nlohmann::json quantization_args(const quant::QuantSpec& spec, bool dynamic);

/// Builds the `quantization_config` object of a model quantized with `options`.
/// It has config groups for the weights and input activations, with one for
/// o_proj when its input is quantized per head. It also has the KV-cache
/// scheme, the modules kept in full precision (`ignore`) and the online
/// Hadamards (`transform_config`).
nlohmann::json quantization_config(model::CausalLM& model, const quant::QuantizeOptions& options);

/// Module names of the Linears kept in full precision: lm_head and the routers.
std::vector<std::string> full_precision_modules(model::CausalLM& model);

/// The weight scheme of a pack-quantized checkpoint, or nullopt when
/// `config_json` has no compressed-tensors quantization_config. Throws
/// dartquant::Error naming `source` and the field for a format, strategy or
/// type this tool cannot read, or for groups with different weight schemes.
std::optional<quant::QuantSpec> read_weight_scheme(const nlohmann::json& config_json, const std::string& source);

}  // namespace dartquant::exporter
