#include "dartquant/quant/model_quantizer.h"

#include <chrono>
#include <set>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/progress.h"
#include "dartquant/quant/quantizer.h"
#include "dartquant/rotation/hadamard.h"
#include "dartquant/rotation/preprocess.h"
#include "dartquant/rotation/rotate.h"

namespace dartquant::quant {
namespace {

using model::Linear;
using model::LinearRole;

/// Lists the Hadamard sizes a rotated model uses, with their constructions.
std::vector<std::string> describe_hadamards(model::CausalLM& model, const QuantizeOptions& options) {
  std::set<int64_t> sizes = {model.config().hidden_size, model.config().head_dim};
  if (options.method == Method::kQuarot) {
    sizes.insert(model.config().num_attention_heads);
  }
  for (auto& layer : model.layers()) {
    layer.for_each_linear([&](Linear& linear) {
      if (linear.site().role == LinearRole::kDown) {
        sizes.insert(linear.in_features());
      }
    });
  }
  std::vector<std::string> plans;
  for (int64_t size : sizes) {
    plans.push_back(std::to_string(size) + ": " + rotation::plan_hadamard(size).describe());
  }
  return plans;
}

}  // namespace

Method parse_method(const std::string& text) {
  if (text == "rtn") {
    return Method::kRtn;
  }
  if (text == "gptq") {
    return Method::kGptq;
  }
  if (text == "quarot") {
    return Method::kQuarot;
  }
  if (text == "dartquant") {
    return Method::kDartquant;
  }
  throw UsageError(str("--method ", text, ": unknown method; use rtn, gptq, quarot or dartquant"));
}

std::string method_name(Method method) {
  switch (method) {
    case Method::kRtn:
      return "rtn";
    case Method::kGptq:
      return "gptq";
    case Method::kQuarot:
      return "quarot";
    case Method::kDartquant:
      return "dartquant";
  }
  return "unknown";
}

nlohmann::json QuantizeReport::to_json() const {
  nlohmann::json layer_list = nlohmann::json::array();
  for (const auto& layer : layers) {
    nlohmann::json linears = nlohmann::json::array();
    for (const auto& linear : layer.linears) {
      linears.push_back({{"name", linear.name},
                         {"algorithm", linear.algorithm},
                         {"tokens", linear.tokens},
                         {"loss", linear.loss},
                         {"damping", linear.damping}});
    }
    layer_list.push_back({{"layer", layer.layer}, {"seconds", layer.seconds}, {"linears", linears}});
  }
  return {{"rotation_seconds", rotation_seconds},
          {"weight_seconds", weight_seconds},
          {"rtn_fallbacks", rtn_fallbacks},
          {"hadamard", hadamard_plans},
          {"layers", layer_list}};
}

void preprocess_model(model::CausalLM& model, const QuantizeOptions& options) {
  preprocess_head(model, options);
  for (auto& layer : model.layers()) {
    rotation::prepare_for_rotation(layer);
  }
}

void preprocess_head(model::CausalLM& model, const QuantizeOptions& options) {
  // All rotation algebra in float64, cast back once at the end (apply_rotations).
  rotation::convert_head_weights(model, at::kDouble);
  if (options.center_embeddings) {
    rotation::center_embeddings(model);
  }
  rotation::fold_final_norm(model);
}

namespace {

bool is_rotated(Method method) { return method == Method::kQuarot || method == Method::kDartquant; }

void check_learned_rotations(const model::CausalLM& model, const QuantizeOptions& options) {
  int64_t layers = model.config().num_hidden_layers;
  DQ_CHECK(options.method != Method::kDartquant ||
               (options.r1.defined() && static_cast<int64_t>(options.r2.size()) == layers),
           "dartquant needs learned rotations: R1 and one R2 per layer (", layers, ")");
}

/// R1 on the embeddings and lm_head, which then go back to `storage_dtype`.
void rotate_head(model::CausalLM& model, const QuantizeOptions& options, const at::Tensor& r1,
                 at::ScalarType storage_dtype) {
  rotation::apply_r1_to_head(model, r1);
  if (options.cast_to_storage_dtype) {
    rotation::convert_head_weights(model, storage_dtype);
  }
}

/// R1, R2, R4 and (KV cache quantized) R3 on one preprocessed layer, which
/// then goes back to `storage_dtype`.
void rotate_layer(model::DecoderLayer& layer, const model::ModelConfig& config, const QuantizeOptions& options,
                  const at::Tensor& r1, at::ScalarType storage_dtype) {
  rotation::apply_r1(layer, r1);
  if (options.method == Method::kQuarot) {
    rotation::apply_quarot_r2(layer, config);
  } else {
    rotation::apply_r2_offline(layer, config, options.r2[static_cast<size_t>(layer.index())].to(at::kDouble));
  }
  rotation::apply_r4(layer);
  if (options.profile.key.enabled() || options.profile.value.enabled()) {
    rotation::apply_r3(layer, config);
  }
  if (options.cast_to_storage_dtype) {
    rotation::convert_weights(layer, storage_dtype);
  }
}

/// QuaRot's random Hadamard or DartQuant's learned R1, in float64.
at::Tensor method_r1(const model::CausalLM& model, const QuantizeOptions& options) {
  return options.method == Method::kQuarot ? rotation::random_hadamard(model.config().hidden_size, options.seed)
                                           : options.r1.to(at::kDouble);
}

}  // namespace

void apply_rotations(model::CausalLM& model, const QuantizeOptions& options, at::ScalarType storage_dtype,
                     QuantizeReport* report) {
  auto start = std::chrono::steady_clock::now();
  check_learned_rotations(model, options);
  auto r1 = method_r1(model, options);
  rotate_head(model, options, r1, storage_dtype);
  for (auto& layer : model.layers()) {
    rotate_layer(layer, model.config(), options, r1, storage_dtype);
  }
  if (report != nullptr) {
    report->rotation_seconds += seconds_since(start);
    report->hadamard_plans = describe_hadamards(model, options);
  }
  spdlog::info("{}: rotations applied in {:.1f} s", method_name(options.method), seconds_since(start));
}

void rotate_model(model::CausalLM& model, const QuantizeOptions& options, QuantizeReport* report) {
  if (!is_rotated(options.method)) {
    return;
  }
  auto start = std::chrono::steady_clock::now();
  auto storage_dtype = model.embed_tokens.scalar_type();
  preprocess_model(model, options);
  if (report != nullptr) {
    report->rotation_seconds += seconds_since(start);
  }
  apply_rotations(model, options, storage_dtype, report);
}

void enable_activation_quantization(model::CausalLM& model, const QuantizeOptions& options) {
  for (auto& layer : model.layers()) {
    enable_activation_quantization(layer, model.config(), options);
  }
}

void enable_activation_quantization(model::DecoderLayer& layer, const model::ModelConfig& config,
                                    const QuantizeOptions& options) {
  const auto& profile = options.profile;
  int64_t head_dim = config.head_dim;

  if (profile.activations.enabled()) {
    QuantSpec per_token = profile.activations;
    QuantSpec per_head = profile.activations;
    per_head.group_size = head_dim;
    bool o_proj_per_head = options.method == Method::kDartquant && profile.o_proj_per_head_under_offline_r2;
    layer.for_each_linear([&](Linear& linear) {
      if (linear.site().role == LinearRole::kRouter) {
        return;  // routers stay in full precision, weights and input
      }
      QuantSpec spec = linear.site().role == LinearRole::kOutput && o_proj_per_head ? per_head : per_token;
      linear.set_input_quantizer([spec](const at::Tensor& x) { return fake_quantize(x, spec); });
    });
  }
  if (profile.key.enabled()) {
    QuantSpec spec = resolve_head_groups(profile.key, head_dim);
    layer.attention.set_key_quantizer([spec](const at::Tensor& k) { return fake_quantize(k, spec); });
  }
  if (profile.value.enabled()) {
    QuantSpec spec = resolve_head_groups(profile.value, head_dim);
    layer.attention.set_value_quantizer([spec](const at::Tensor& v) { return fake_quantize(v, spec); });
  }
}

void restore_online_quantization(model::CausalLM& model, const QuantizeOptions& options) {
  for (auto& layer : model.layers()) {
    restore_online_quantization(layer, model.config(), options);
  }
}

void restore_online_quantization(model::DecoderLayer& layer, const model::ModelConfig& config,
                                 const QuantizeOptions& options) {
  if (is_rotated(options.method)) {
    rotation::install_r4_online(layer);
    if (options.method == Method::kQuarot) {
      rotation::install_quarot_r2_online(layer, config);
    }
    if (options.profile.key.enabled() || options.profile.value.enabled()) {
      rotation::apply_r3(layer, config);
    }
  }
  enable_activation_quantization(layer, config, options);
}

void quantize_layers(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options,
                     at::ScalarType storage_dtype, QuantizeReport* report) {
  auto start = std::chrono::steady_clock::now();
  double rotation_seconds = 0;
  bool rotated = is_rotated(options.method);
  at::Tensor r1;
  if (rotated) {
    check_learned_rotations(model, options);
    auto rotate_start = std::chrono::steady_clock::now();
    r1 = method_r1(model, options);
    rotate_head(model, options, r1, storage_dtype);
    rotation_seconds += seconds_since(rotate_start);
  }

  LayerSteps steps;
  steps.before = [&](model::DecoderLayer& layer) {
    if (model.loads_layers_on_demand()) {
      model.load_layer(layer.index());
    }
    if (rotated) {
      auto rotate_start = std::chrono::steady_clock::now();
      rotation::prepare_for_rotation(layer);
      rotate_layer(layer, model.config(), options, r1, storage_dtype);
      rotation_seconds += seconds_since(rotate_start);
    }
  };
  steps.after = [&](model::DecoderLayer& layer) {
    enable_activation_quantization(layer, model.config(), options);
    if (options.on_layer_done) {
      options.on_layer_done(layer);
    }
    if (options.release_layers && model.loads_layers_on_demand()) {
      model.release_layer(layer.index());
    }
  };
  quantize_weights(model, calibration, options, report, steps);

  report->rotation_seconds += rotation_seconds;
  report->weight_seconds = seconds_since(start) - rotation_seconds;
  if (rotated) {
    report->hadamard_plans = describe_hadamards(model, options);
  }
}

QuantizeReport quantize_model(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options) {
  QuantizeReport report;
  auto storage_dtype = model.embed_tokens.scalar_type();
  if (is_rotated(options.method)) {
    auto start = std::chrono::steady_clock::now();
    preprocess_head(model, options);
    report.rotation_seconds += seconds_since(start);
  }
  quantize_layers(model, calibration, options, storage_dtype, &report);
  return report;
}

}  // namespace dartquant::quant
