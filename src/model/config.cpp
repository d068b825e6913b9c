#include "dartquant/model/config.h"

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"

namespace dartquant::model {
namespace {

using nlohmann::json;

constexpr const char* kSupported =
    "llama (LlamaForCausalLM), mistral (MistralForCausalLM), mixtral (MixtralForCausalLM), "
    "deepseek (DeepseekForCausalLM)";

/// Typed access to config keys with errors that name the file and the key.
class Reader {
 public:
  Reader(const json& json, std::string source) : json_(json), source_(std::move(source)) {}

  bool has(const char* key) const { return json_.contains(key) && !json_.at(key).is_null(); }

  int64_t integer(const char* key) const {
    DQ_CHECK(has(key), source_, ": required key \"", key, "\" is missing");
    return integer_value(key, json_.at(key));
  }

  int64_t integer_or(const char* key, int64_t fallback) const {
    return has(key) ? integer_value(key, json_.at(key)) : fallback;
  }

  std::optional<int64_t> optional_integer(const char* key) const {
    if (!has(key)) {
      return std::nullopt;
    }
    return integer_value(key, json_.at(key));
  }

  double number_or(const char* key, double fallback) const {
    if (!has(key)) {
      return fallback;
    }
    const json& value = json_.at(key);
    DQ_CHECK(value.is_number(), source_, ": \"", key, "\" must be a number, got ", value.dump());
    return value.get<double>();
  }

  bool boolean_or(const char* key, bool fallback) const {
    if (!has(key)) {
      return fallback;
    }
    const json& value = json_.at(key);
    DQ_CHECK(value.is_boolean(), source_, ": \"", key, "\" must be true or false, got ", value.dump());
    return value.get<bool>();
  }

  std::string string_or(const char* key, const std::string& fallback) const {
    if (!has(key)) {
      return fallback;
    }
    const json& value = json_.at(key);
    DQ_CHECK(value.is_string(), source_, ": \"", key, "\" must be a string, got ", value.dump());
    return value.get<std::string>();
  }

  const std::string& source() const { return source_; }

 private:
  int64_t integer_value(const char* key, const json& value) const {
    DQ_CHECK(value.is_number_integer() || value.is_number_unsigned(), source_, ": \"", key,
             "\" must be an integer, got ", value.dump());
    return value.get<int64_t>();
  }

  const json& json_;
  std::string source_;
};

Architecture parse_architecture(const Reader& reader) {
  std::string type = reader.string_or("model_type", "");
  DQ_CHECK(!type.empty(), reader.source(), ": \"model_type\" is missing; supported: ", kSupported);
  if (type == "llama") {
    return Architecture::kLlama;
  }
  if (type == "mistral") {
    return Architecture::kMistral;
  }
  if (type == "mixtral") {
    return Architecture::kMixtral;
  }
  if (type == "deepseek") {
    return Architecture::kDeepseek;
  }
  throw Error(str(reader.source(), ": model_type \"", type, "\" is not supported; supported: ", kSupported));
}

/// The `architectures` list, when present, must name the causal-LM class of the model type.
void check_architectures(const json& json, Architecture architecture, const std::string& source) {
  if (!json.contains("architectures") || json.at("architectures").is_null()) {
    return;
  }
  const auto& list = json.at("architectures");
  DQ_CHECK(list.is_array() && !list.empty(), source, ": \"architectures\" must be a non-empty list");
  static const std::map<Architecture, std::string> kClass = {
      {Architecture::kLlama, "LlamaForCausalLM"},
      {Architecture::kMistral, "MistralForCausalLM"},
      {Architecture::kMixtral, "MixtralForCausalLM"},
      {Architecture::kDeepseek, "DeepseekForCausalLM"}};
  for (const auto& entry : list) {
    DQ_CHECK(entry.is_string(), source, ": \"architectures\" entries must be strings, got ", entry.dump());
    if (entry.get<std::string>() == kClass.at(architecture)) {
      return;
    }
  }
  throw Error(str(source, ": architectures ", list.dump(), " is not supported for model_type \"",
                  architecture_name(architecture), "\"; expected ", kClass.at(architecture), " (supported: ",
                  kSupported, ")"));
}

RopeScaling parse_rope_scaling(const json& json, const std::string& source) {
  RopeScaling scaling;
  if (!json.contains("rope_scaling") || json.at("rope_scaling").is_null()) {
    return scaling;
  }
  const auto& node = json.at("rope_scaling");
  DQ_CHECK(node.is_object(), source, ": \"rope_scaling\" must be an object or null, got ", node.dump());
  Reader reader(node, source + " rope_scaling");

  // transformers >= 4.43 writes "rope_type"; older configs write "type".
  std::string type = reader.string_or("rope_type", reader.string_or("type", "default"));
  if (type == "default") {
    return scaling;
  }
  if (type == "linear") {
    scaling.type = RopeScaling::Type::kLinear;
  } else if (type == "llama3") {
    scaling.type = RopeScaling::Type::kLlama3;
    scaling.low_freq_factor = reader.number_or("low_freq_factor", 1.0);
    scaling.high_freq_factor = reader.number_or("high_freq_factor", 4.0);
    scaling.original_max_position_embeddings = reader.integer("original_max_position_embeddings");
    DQ_CHECK(scaling.high_freq_factor > scaling.low_freq_factor, source,
             ": rope_scaling high_freq_factor must exceed low_freq_factor");
  } else {
    throw Error(str(source, ": rope_scaling type \"", type,
                    "\" is not supported (supported: default, linear, llama3)"));
  }
  scaling.factor = reader.number_or("factor", 1.0);
  DQ_CHECK(scaling.factor > 0, source, ": rope_scaling factor must be positive, got ", scaling.factor);
  return scaling;
}

std::optional<MoeConfig> parse_moe(const Reader& reader, Architecture architecture, int64_t num_layers) {
  const std::string& source = reader.source();
  MoeConfig moe;
  if (architecture == Architecture::kMixtral) {
    moe.num_experts = reader.integer("num_local_experts");
    moe.num_experts_per_tok = reader.integer("num_experts_per_tok");
    moe.expert_intermediate_size = reader.integer("intermediate_size");
    moe.norm_topk_prob = true;
  } else if (architecture == Architecture::kDeepseek) {
    if (!reader.has("n_routed_experts")) {
      return std::nullopt;  // a DeepSeek config without routed experts is a dense model
    }
    moe.num_experts = reader.integer("n_routed_experts");
    moe.num_experts_per_tok = reader.integer("num_experts_per_tok");
    moe.expert_intermediate_size = reader.integer("moe_intermediate_size");
    moe.num_shared_experts = reader.integer_or("n_shared_experts", 0);
    moe.first_k_dense_replace = reader.integer_or("first_k_dense_replace", 0);
    moe.moe_layer_freq = reader.integer_or("moe_layer_freq", 1);
    moe.norm_topk_prob = reader.boolean_or("norm_topk_prob", false);
    std::string scoring = reader.string_or("scoring_func", "softmax");
    DQ_CHECK(scoring == "softmax", source, ": scoring_func \"", scoring, "\" is not supported (supported: softmax)");
  } else {
    return std::nullopt;
  }

  DQ_CHECK(moe.num_experts > 0, source, ": the number of experts must be positive, got ", moe.num_experts);
  DQ_CHECK(moe.num_experts_per_tok > 0 && moe.num_experts_per_tok <= moe.num_experts, source,
           ": num_experts_per_tok (", moe.num_experts_per_tok, ") must be between 1 and the number of experts (",
           moe.num_experts, ")");
  DQ_CHECK(moe.expert_intermediate_size > 0, source, ": the expert intermediate size must be positive, got ",
           moe.expert_intermediate_size);
  DQ_CHECK(moe.num_shared_experts >= 0, source, ": n_shared_experts must not be negative, got ",
           moe.num_shared_experts);
  DQ_CHECK(moe.moe_layer_freq >= 1, source, ": moe_layer_freq must be at least 1, got ", moe.moe_layer_freq);
  DQ_CHECK(moe.first_k_dense_replace >= 0 && moe.first_k_dense_replace <= num_layers, source,
           ": first_k_dense_replace (", moe.first_k_dense_replace, ") must be between 0 and num_hidden_layers (",
           num_layers, ")");
  return moe;
}

void validate(const ModelConfig& config, const std::string& source) {
  auto positive = [&](const char* key, int64_t value) {
    DQ_CHECK(value > 0, source, ": \"", key, "\" must be positive, got ", value);
  };
  positive("hidden_size", config.hidden_size);
  positive("num_hidden_layers", config.num_hidden_layers);
  positive("num_attention_heads", config.num_attention_heads);
  positive("num_key_value_heads", config.num_key_value_heads);
  positive("head_dim", config.head_dim);
  positive("vocab_size", config.vocab_size);
  positive("max_position_embeddings", config.max_position_embeddings);
  positive("intermediate_size", config.intermediate_size);
  DQ_CHECK(config.num_attention_heads % config.num_key_value_heads == 0, source, ": num_attention_heads (",
           config.num_attention_heads, ") must be a multiple of num_key_value_heads (", config.num_key_value_heads,
           ")");
  DQ_CHECK(config.head_dim % 2 == 0, source, ": head_dim (", config.head_dim, ") must be even for RoPE");
  DQ_CHECK(config.rms_norm_eps > 0, source, ": rms_norm_eps must be positive, got ", config.rms_norm_eps);
  DQ_CHECK(config.rope_theta > 0, source, ": rope_theta must be positive, got ", config.rope_theta);
  if (config.sliding_window) {
    positive("sliding_window", *config.sliding_window);
  }
}

}  // namespace

std::string architecture_name(Architecture architecture) {
  switch (architecture) {
    case Architecture::kLlama:
      return "llama";
    case Architecture::kMistral:
      return "mistral";
    case Architecture::kMixtral:
      return "mixtral";
    case Architecture::kDeepseek:
      return "deepseek";
  }
  return "unknown";
}

bool ModelConfig::is_moe_layer(int64_t layer) const {
  if (!moe) {
    return false;
  }
  if (architecture == Architecture::kMixtral) {
    return true;
  }
  return layer >= moe->first_k_dense_replace && layer % moe->moe_layer_freq == 0;
}

ModelConfig ModelConfig::from_json(const json& json, const std::string& source) {
  DQ_CHECK(json.is_object(), source, ": expected a JSON object at the top level");
  Reader reader(json, source);

  ModelConfig config;
  config.architecture = parse_architecture(reader);
  config.model_type = architecture_name(config.architecture);
  check_architectures(json, config.architecture, source);
  config.torch_dtype = reader.string_or("torch_dtype", "float32");

  std::string activation = reader.string_or("hidden_act", "silu");
  DQ_CHECK(activation == "silu", source, ": hidden_act \"", activation, "\" is not supported (supported: silu)");
  DQ_CHECK(reader.integer_or("pretraining_tp", 1) == 1, source,
           ": pretraining_tp other than 1 is not supported (it changes only training-time slicing; set it to 1)");

  config.hidden_size = reader.integer("hidden_size");
  config.num_hidden_layers = reader.integer("num_hidden_layers");
  config.num_attention_heads = reader.integer("num_attention_heads");
  config.num_key_value_heads = reader.integer_or("num_key_value_heads", config.num_attention_heads);
  DQ_CHECK(config.num_attention_heads > 0, source, ": \"num_attention_heads\" must be positive, got ",
           config.num_attention_heads);
  DQ_CHECK(config.hidden_size % config.num_attention_heads == 0 || reader.has("head_dim"), source,
           ": hidden_size (", config.hidden_size, ") is not a multiple of num_attention_heads (",
           config.num_attention_heads, ") and no head_dim is given");
  config.head_dim = reader.integer_or("head_dim", config.hidden_size / config.num_attention_heads);
  config.intermediate_size = reader.integer("intermediate_size");
  config.vocab_size = reader.integer("vocab_size");
  config.max_position_embeddings = reader.integer("max_position_embeddings");
  config.rms_norm_eps = reader.number_or("rms_norm_eps", 1e-6);
  config.rope_theta = reader.number_or("rope_theta", 10000.0);
  config.rope_scaling = parse_rope_scaling(json, source);
  config.tie_word_embeddings = reader.boolean_or("tie_word_embeddings", false);
  config.attention_bias = reader.boolean_or("attention_bias", false);
  config.mlp_bias = reader.boolean_or("mlp_bias", false);
  config.sliding_window = reader.optional_integer("sliding_window");
  config.bos_token_id = reader.optional_integer("bos_token_id");
  config.eos_token_id = reader.optional_integer("eos_token_id");
  config.moe = parse_moe(reader, config.architecture, config.num_hidden_layers);

  validate(config, source);
  return config;
}

ModelConfig ModelConfig::load(const std::filesystem::path& dir) {
  auto path = dir / "config.json";
  DQ_CHECK(std::filesystem::is_regular_file(path), path.string(),
           ": not found; point --model at a Hugging Face model folder that contains config.json");
  std::ifstream in(path, std::ios::binary);
  DQ_CHECK(in.good(), path.string(), ": cannot be opened for reading");

  json parsed;
  try {
    parsed = json::parse(in);
  } catch (const json::exception& error) {
    // parse_error for bad syntax, out_of_range for a number beyond the range of a double.
    throw Error(str(path.string(), ": invalid JSON (", error.what(), ")"));
  }
  return from_json(parsed, path.string());
}

}  // namespace dartquant::model
