// Model configuration parsed from a Hugging Face config.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace dartquant::model {

/// Architectures the model code implements.
enum class Architecture { kLlama, kMistral, kMixtral, kDeepseek };

std::string architecture_name(Architecture architecture);

/// RoPE frequency scaling (config key `rope_scaling`).
struct RopeScaling {
  enum class Type { kNone, kLinear, kLlama3 };
  Type type = Type::kNone;
  double factor = 1.0;
  // Llama 3 only: wavelength band limits relative to the original context.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

/// Mixture-of-Experts settings. Mixtral: every layer is MoE, no shared experts,
/// weights always renormalized. DeepSeek-MoE: the first `first_k_dense_replace`
/// layers are dense, then every `moe_layer_freq`-th layer is MoE, with
/// `n_shared_experts` fused into one always-on MLP.
struct MoeConfig {
  int64_t num_experts = 0;          ///< routed experts per MoE layer
  int64_t num_experts_per_tok = 0;  ///< top-k
  int64_t expert_intermediate_size = 0;
  int64_t num_shared_experts = 0;   ///< DeepSeek only; fused width = n * expert_intermediate_size
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  bool norm_topk_prob = true;
};

/// Everything the forward pass needs, validated on load.
struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  std::string model_type;    ///< as in config.json
  std::string torch_dtype;   ///< storage dtype declared by the checkpoint ("float32", "bfloat16", ...)

  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t intermediate_size = 0;  ///< dense MLP width
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  std::optional<int64_t> sliding_window;  ///< Mistral/Mixtral local attention span, tokens
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  std::optional<MoeConfig> moe;

  /// Query heads per KV head.
  int64_t num_key_value_groups() const { return num_attention_heads / num_key_value_heads; }

  /// True when decoder layer `layer` has a Mixture-of-Experts block.
  bool is_moe_layer(int64_t layer) const;

  /// Parses and validates a config.json object; `source` names it in errors.
  static ModelConfig from_json(const nlohmann::json& json, const std::string& source);

  /// Reads `<dir>/config.json`.
  static ModelConfig load(const std::filesystem::path& dir);
};

}  // namespace dartquant::model
