// Random checkpoints of any shape and depth in every supported architecture,
// for memory and speed benchmarks (`dartquant synth`).
//
// The tensors are exactly those the model code loads: the generator loads the
// model through CausalLM::load with a WeightDecoder that invents each tensor,
// so a new architecture needs no change here. Values: Linear and router
// weights ~ N(0, 1/in), embeddings ~ N(0, 1), norm weights 1, biases 0, each
// from a generator seeded by the seed and the tensor name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

namespace dartquant::exporter {

/// Sizes of a synthetic model. MoE fields apply to mixtral and deepseek only.
struct SyntheticShape {
  std::string architecture = "llama";  ///< llama, mistral, mixtral or deepseek
  int64_t layers = 8;
  int64_t hidden = 256;
  int64_t intermediate = 688;
  int64_t heads = 8;
  int64_t kv_heads = 4;
  int64_t vocab = 32000;
  int64_t max_position = 2048;
  int64_t experts = 8;
  int64_t experts_per_token = 2;
  int64_t expert_intermediate = 0;  ///< deepseek: routed expert width (0: intermediate / 4)
  int64_t shared_experts = 2;       ///< deepseek
  int64_t first_dense_layers = 1;   ///< deepseek: leading dense layers
};

/// The config.json object of `shape` (validated on writing). Throws
/// dartquant::UsageError for an unknown architecture or a non-positive size.
nlohmann::json synthetic_config(const SyntheticShape& shape, at::ScalarType dtype);

struct SyntheticOptions {
  nlohmann::json config;           ///< a config.json object, e.g. from synthetic_config
  std::filesystem::path out_dir;
  bool overwrite = false;
  uint64_t seed = 0;
  at::ScalarType dtype = at::kBFloat16;
  int64_t max_shard_bytes = int64_t{5} << 30;
  std::filesystem::path tokenizer_from;  ///< folder to copy tokenizer files from; empty for none
};

/// Writes a random model folder atomically (config.json, safetensors, shards
/// beyond max_shard_bytes, tokenizer files). Returns the number of parameters.
/// NOTE: the whole model is held in memory while it is written.
int64_t write_synthetic_model(const SyntheticOptions& options);

}  // namespace dartquant::exporter
