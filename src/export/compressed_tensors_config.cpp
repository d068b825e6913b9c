#include "dartquant/export/compressed_tensors_config.h"

#include <set>

#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/export/packed_linear.h"

namespace dartquant::exporter {
namespace {

using model::Linear;
using model::LinearRole;

/// Last component of a module name: "model.layers.0.mlp.down_proj" -> "down_proj".
std::string leaf_name(const Linear& linear) {
  auto module = module_of(linear.name());
  return module.substr(module.rfind('.') + 1);
}

/// Builds a compressed-tensors target for the modules whose last name
/// component is one of `leaves`, e.g. "re:.*\.(q_proj|k_proj)$".
std::string leaf_pattern(const std::set<std::string>& leaves) {
  std::string alternatives;
  for (const auto& leaf : leaves) {
    alternatives += (alternatives.empty() ? "" : "|") + leaf;
  }
  return "re:.*\\.(" + alternatives + ")$";
}

nlohmann::json hadamard_scheme(const std::vector<nlohmann::json>& apply, std::optional<int64_t> head_dim) {
  return {{"type", "hadamard"},
          {"apply", apply},
          {"randomize", false},
          {"requires_grad", false},
          {"head_dim", head_dim ? nlohmann::json(*head_dim) : nlohmann::json(nullptr)},
          {"precision", "torch.float32"}};
}

nlohmann::json transform_args(const std::string& target, const std::string& location, bool inverse) {
  return {{"targets", {target}}, {"location", location}, {"inverse", inverse}, {"ignore", nlohmann::json::array()}};
}

/// The online Hadamards of a rotated model. The offline halves are already in
/// the saved weights, so only the online locations are listed.
nlohmann::json transform_config(model::CausalLM& model, const quant::QuantizeOptions& options,
                                const std::set<std::string>& down_leaves) {
  nlohmann::json groups = nlohmann::json::object();
  if (options.method != quant::Method::kQuarot && options.method != quant::Method::kDartquant) {
    return {{"config_groups", groups}};
  }
  // R4: x ← x·Mᵀ before every down projection (inverse: the transpose).
  groups["r4"] = hadamard_scheme({transform_args(leaf_pattern(down_leaves), "input", true)}, std::nullopt);
  if (options.method == quant::Method::kQuarot) {
    // QuaRot's online R2 mixes heads: (H_h ⊗ I_{d_h})/√h. compressed-tensors
    // has no field for a Hadamard across heads; the dartquant block gives the
    // exact layout.
    groups["r2_online"] = hadamard_scheme({transform_args(leaf_pattern({"o_proj"}), "input", false)}, std::nullopt);
  }
  if (options.profile.key.enabled() || options.profile.value.enabled()) {
    // R3: q and k after RoPE, per head.
    groups["r3"] = hadamard_scheme({transform_args("re:.*\\.self_attn$", "q_attn", false),
                                    transform_args("re:.*\\.self_attn$", "k_cache", false)},
                                   model.config().head_dim);
  }
  return {{"config_groups", groups}};
}

/// Reads one QuantizationArgs object of a weight scheme.
quant::QuantSpec read_weight_args(const nlohmann::json& args, const std::string& source, const std::string& field) {
  FieldReader reader(args, source, field,
                     {"num_bits", "type", "symmetric", "group_size", "strategy", "block_structure", "dynamic",
                      "actorder", "scale_dtype", "zp_dtype", "observer", "observer_kwargs"});
  DQ_CHECK(reader.string("type") == "int", source, ": field \"", reader.path("type"), "\" is ",
           reader.string("type"), "; only integer weights can be unpacked");

  quant::QuantSpec spec;
  spec.bits = static_cast<int>(reader.integer("num_bits"));
  DQ_CHECK(spec.bits >= 2 && spec.bits <= 8, source, ": field \"", reader.path("num_bits"), "\" is ", spec.bits,
           "; packed weights need 2..8 bits");
  spec.symmetric = reader.boolean("symmetric");

  auto strategy = reader.has("strategy") && !args.at("strategy").is_null() ? reader.string("strategy") : "";
  auto group_size = reader.has("group_size") && !args.at("group_size").is_null() ? reader.integer("group_size") : 0;
  if (strategy.empty()) {
    // compressed-tensors infers the strategy from group_size: -1 channel, positive group, null tensor.
    if (group_size > 0) {
      strategy = "group";
    } else if (group_size == -1) {
      strategy = "channel";
    } else {
      strategy = "tensor";
    }
  }
  if (strategy == "channel") {
    spec.group_size = 0;
  } else if (strategy == "group") {
    DQ_CHECK(group_size > 0, source, ": field \"", reader.path("group_size"), "\" must be positive for strategy group");
    spec.group_size = group_size;
  } else {
    throw Error(str(source, ": field \"", reader.path("strategy"), "\" is ", strategy,
                    "; dartquant reads weights quantized per channel or per group"));
  }

  auto actorder = reader.has("actorder") ? args.at("actorder") : nlohmann::json(nullptr);
  DQ_CHECK(actorder.is_null() || actorder == "weight" || actorder == "static", source, ": field \"",
           reader.path("actorder"), "\" is ", actorder.dump(), "; group activation order (g_idx) is not supported");
  return spec;
}

}  // namespace

nlohmann::json quantization_args(const quant::QuantSpec& spec, bool dynamic) {
  nlohmann::json args{{"num_bits", spec.bits}, {"type", "int"}, {"symmetric", spec.symmetric}, {"dynamic", dynamic}};
  if (spec.group_size > 0) {
    args["strategy"] = "group";
    args["group_size"] = spec.group_size;
  } else {
    args["strategy"] = dynamic ? "token" : "channel";
    args["group_size"] = nullptr;
  }
  return args;
}

std::vector<std::string> full_precision_modules(model::CausalLM& model) {
  std::vector<std::string> modules{module_of(model.lm_head.name())};
  for (auto& layer : model.layers()) {
    layer.for_each_linear([&](Linear& linear) {
      if (linear.site().role == LinearRole::kRouter) {
        modules.push_back(module_of(linear.name()));
      }
    });
  }
  return modules;
}

nlohmann::json quantization_config(model::CausalLM& model, const quant::QuantizeOptions& options) {
  const auto& profile = options.profile;
  const int64_t head_dim = model.config().head_dim;
  bool o_proj_per_head = options.method == quant::Method::kDartquant && profile.o_proj_per_head_under_offline_r2 &&
                         profile.activations.enabled();

  std::set<std::string> main_leaves;
  std::set<std::string> down_leaves;
  for (auto& layer : model.layers()) {
    layer.for_each_linear([&](Linear& linear) {
      auto role = linear.site().role;
      if (role == LinearRole::kRouter) {
        return;
      }
      if (role == LinearRole::kDown) {
        down_leaves.insert(leaf_name(linear));
      }
      if (!(o_proj_per_head && role == LinearRole::kOutput)) {
        main_leaves.insert(leaf_name(linear));
      }
    });
  }

  auto weights = quantization_args(profile.weights.spec, /*dynamic=*/false);
  auto activations = profile.activations.enabled() ? quantization_args(profile.activations, true) : nullptr;
  nlohmann::json groups;
  groups["group_0"] = {{"targets", {o_proj_per_head ? leaf_pattern(main_leaves) : "Linear"}},
                       {"weights", weights},
                       {"input_activations", activations},
                       {"output_activations", nullptr},
                       {"format", "pack-quantized"}};
  if (o_proj_per_head) {
    quant::QuantSpec per_head = profile.activations;
    per_head.group_size = head_dim;
    groups["group_1"] = {{"targets", {leaf_pattern({"o_proj"})}},
                         {"weights", weights},
                         {"input_activations", quantization_args(per_head, true)},
                         {"output_activations", nullptr},
                         {"format", "pack-quantized"}};
  }

  // One scheme covers K and V in compressed-tensors; the profile's key
  // settings are written, and the dartquant block keeps both.
  nlohmann::json kv = nullptr;
  if (profile.key.enabled()) {
    kv = quantization_args(quant::resolve_head_groups(profile.key, head_dim), true);
  }

  return {{"quant_method", "compressed-tensors"},
          {"format", "pack-quantized"},
          {"quantization_status", "compressed"},
          {"version", kCompressedTensorsVersion},
          {"global_compression_ratio", nullptr},
          {"config_groups", groups},
          {"kv_cache_scheme", kv},
          {"ignore", full_precision_modules(model)},
          {"sparsity_config", nlohmann::json::object()},
          {"transform_config", transform_config(model, options, down_leaves)}};
}

std::optional<quant::QuantSpec> read_weight_scheme(const nlohmann::json& config_json, const std::string& source) {
  if (!config_json.is_object() || !config_json.contains("quantization_config")) {
    return std::nullopt;
  }
  const auto& config = config_json.at("quantization_config");
  DQ_CHECK(config.is_object(), source, ": field \"quantization_config\" must be an object");
  auto method = config.value("quant_method", std::string());
  DQ_CHECK(method == "compressed-tensors", source, ": quantization_config.quant_method is \"", method,
           "\"; dartquant reads compressed-tensors checkpoints only");
  auto format = config.value("format", std::string());
  DQ_CHECK(format == "pack-quantized", source, ": quantization_config.format is \"", format,
           "\"; dartquant reads the pack-quantized format only");
  DQ_CHECK(config.contains("config_groups") && config.at("config_groups").is_object() &&
               !config.at("config_groups").empty(),
           source, ": quantization_config.config_groups is missing or empty");

  std::optional<quant::QuantSpec> scheme;
  std::string scheme_group;
  for (const auto& [name, group] : config.at("config_groups").items()) {
    auto field = "quantization_config.config_groups." + name;
    DQ_CHECK(group.is_object(), source, ": field \"", field, "\" must be an object");
    if (!group.contains("weights") || group.at("weights").is_null()) {
      continue;
    }
    auto spec = read_weight_args(group.at("weights"), source, field + ".weights");
    DQ_CHECK(!scheme || (scheme->bits == spec.bits && scheme->symmetric == spec.symmetric &&
                         scheme->group_size == spec.group_size),
             source, ": quantization_config.config_groups.", scheme_group, ".weights and ", field,
             ".weights differ (num_bits, symmetric or group_size); dartquant reads one weight scheme per model");
    scheme = spec;
    scheme_group = name;
  }
  DQ_CHECK(scheme.has_value(), source, ": no config group of quantization_config has a weight scheme");
  return scheme;
}

}  // namespace dartquant::exporter
