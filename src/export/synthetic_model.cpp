#include "dartquant/export/synthetic_model.h"

#include <functional>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/compute.h"
#include "dartquant/core/error.h"
#include "dartquant/core/strings.h"
#include "dartquant/export/packed_model.h"
#include "dartquant/io/atomic_directory.h"
#include "dartquant/io/atomic_file.h"
#include "dartquant/io/safetensors_writer.h"
#include "dartquant/model/causal_lm.h"
#include "dartquant/model/config.h"

namespace dartquant::exporter {
namespace {

/// Invents tensor `name` of `shape` (see the top of the header for the values).
at::Tensor random_tensor(const std::string& name, const std::vector<int64_t>& shape, uint64_t seed,
                         at::ScalarType dtype) {
  auto options = at::TensorOptions().dtype(at::kFloat);
  if (name.find("norm") != std::string::npos) {
    return at::ones(shape, options).to(dtype);
  }
  if (ends_with(name, ".bias")) {
    return at::zeros(shape, options).to(dtype);
  }
  auto generator = at::detail::createCPUGenerator(seed ^ std::hash<std::string>{}(name));
  auto values = at::randn(shape, generator, options);
  if (shape.size() == 2 && name.find("embed_tokens") == std::string::npos) {
    values = values / std::sqrt(static_cast<double>(shape[1]));
  }
  return values.to(dtype);
}

void check_positive(int64_t value, const char* flag) {
  if (value <= 0) {
    throw UsageError(str(flag, " ", value, ": must be positive"));
  }
}

}  // namespace

nlohmann::json synthetic_config(const SyntheticShape& shape, at::ScalarType dtype) {
  check_positive(shape.layers, "--layers");
  check_positive(shape.hidden, "--hidden");
  check_positive(shape.intermediate, "--intermediate");
  check_positive(shape.heads, "--heads");
  check_positive(shape.kv_heads, "--kv-heads");
  check_positive(shape.vocab, "--vocab");
  check_positive(shape.max_position, "--max-position");
  nlohmann::json config{{"hidden_size", shape.hidden},
                        {"intermediate_size", shape.intermediate},
                        {"num_hidden_layers", shape.layers},
                        {"num_attention_heads", shape.heads},
                        {"num_key_value_heads", shape.kv_heads},
                        {"vocab_size", shape.vocab},
                        {"max_position_embeddings", shape.max_position},
                        {"rms_norm_eps", 1e-5},
                        {"rope_theta", 10000.0},
                        {"hidden_act", "silu"},
                        {"tie_word_embeddings", false},
                        {"bos_token_id", 1},
                        {"eos_token_id", 2},
                        {"torch_dtype", dtype_name(dtype)}};
  const auto& architecture = shape.architecture;
  if (architecture == "llama") {
    config["model_type"] = "llama";
    config["architectures"] = {"LlamaForCausalLM"};
  } else if (architecture == "mistral") {
    config["model_type"] = "mistral";
    config["architectures"] = {"MistralForCausalLM"};
    config["sliding_window"] = shape.max_position;
  } else if (architecture == "mixtral") {
    check_positive(shape.experts, "--experts");
    config["model_type"] = "mixtral";
    config["architectures"] = {"MixtralForCausalLM"};
    config["num_local_experts"] = shape.experts;
    config["num_experts_per_tok"] = shape.experts_per_token;
  } else if (architecture == "deepseek") {
    check_positive(shape.experts, "--experts");
    config["model_type"] = "deepseek";
    config["architectures"] = {"DeepseekForCausalLM"};
    config["n_routed_experts"] = shape.experts;
    config["num_experts_per_tok"] = shape.experts_per_token;
    config["moe_intermediate_size"] = shape.expert_intermediate > 0 ? shape.expert_intermediate
                                                                    : std::max<int64_t>(1, shape.intermediate / 4);
    config["n_shared_experts"] = shape.shared_experts;
    config["first_k_dense_replace"] = shape.first_dense_layers;
    config["moe_layer_freq"] = 1;
    config["norm_topk_prob"] = false;
    config["scoring_func"] = "softmax";
  } else {
    throw UsageError(str("--arch ", architecture, ": use llama, mistral, mixtral or deepseek"));
  }
  return config;
}

int64_t write_synthetic_model(const SyntheticOptions& options) {
  model::ModelConfig::from_json(options.config, "synthetic config");  // fails before anything is written
  io::AtomicDirectory folder(options.out_dir, options.overwrite);
  io::write_file_atomically(folder.staging() / "config.json", options.config.dump(2) + "\n");

  // Load the model from an empty checkpoint: the decoder invents every tensor
  // the model code requests and records it in load order. The model gets a
  // zero that takes no memory; the values are drawn (seeded by name) only
  // when the file is written, one tensor at a time.
  io::write_deferred_safetensors(folder.staging() / "model.safetensors", {});
  std::vector<io::DeferredTensor> tensors;
  int64_t parameters = 0;
  model::WeightDecoder invent = [&](const io::Checkpoint&, const std::string& name,
                                    const std::vector<int64_t>& shape) -> model::DecodedWeight {
    auto placeholder = at::zeros({1}, at::TensorOptions().dtype(options.dtype)).expand(shape);
    auto seed = options.seed;
    auto dtype = options.dtype;
    tensors.push_back({name, at::empty(shape, at::TensorOptions().dtype(dtype).device(at::kMeta)),
                       [name, shape, seed, dtype] { return random_tensor(name, shape, seed, dtype); }});
    parameters += placeholder.numel();
    return {placeholder, {}};
  };
  model::CausalLM::load(folder.staging(), ComputeOptions{}, invent);

  std::filesystem::remove(folder.staging() / "model.safetensors");
  io::write_sharded_safetensors(folder.staging(), tensors, options.max_shard_bytes);
  if (!options.tokenizer_from.empty()) {
    copy_tokenizer_files(options.tokenizer_from, folder.staging());
  }
  folder.commit();
  spdlog::info("wrote a synthetic {} model with {} parameters ({} tensors) to {}",
               options.config.value("model_type", "?"), parameters, tensors.size(), folder.target().string());
  return parameters;
}

}  // namespace dartquant::exporter
