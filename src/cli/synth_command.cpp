// dartquant synth: writes a random model of any shape and depth, for memory
// and speed benchmarks.
#include "cli_options.h"
#include "dartquant/cli/commands.h"
#include "dartquant/core/compute.h"
#include "dartquant/core/error.h"
#include "dartquant/core/logging.h"
#include "dartquant/export/synthetic_model.h"
#include "dartquant_cli.h"

namespace dartquant::cli {

int synth_command(int argc, char** argv) {
  exporter::SyntheticShape defaults;
  cxxopts::Options options("dartquant synth",
                           "Write a random Hugging Face model folder of the given architecture and shape (weights "
                           "~ N(0, 1/in), norms 1), for memory and speed benchmarks. Its outputs are meaningless.");
  auto integer = [](int64_t value) { return cxxopts::value<int64_t>()->default_value(std::to_string(value)); };
  options.add_options()
      ("out", "Output folder, written atomically", cxxopts::value<std::string>())
      ("overwrite", "Replace an existing output folder")
      ("arch", "llama, mistral, mixtral or deepseek", cxxopts::value<std::string>()->default_value("llama"))
      ("layers", "Decoder layers", integer(defaults.layers))
      ("hidden", "Hidden size", integer(defaults.hidden))
      ("intermediate", "Dense MLP width", integer(defaults.intermediate))
      ("heads", "Attention heads", integer(defaults.heads))
      ("kv-heads", "Key/value heads", integer(defaults.kv_heads))
      ("vocab", "Vocabulary size; at least the tokenizer's when --tokenizer-from is given", integer(defaults.vocab))
      ("max-position", "max_position_embeddings", integer(defaults.max_position))
      ("experts", "Routed experts per MoE layer (mixtral, deepseek)", integer(defaults.experts))
      ("top-k", "Experts per token (mixtral, deepseek)", integer(defaults.experts_per_token))
      ("expert-intermediate", "DeepSeek routed expert width (0: intermediate / 4)",
       integer(defaults.expert_intermediate))
      ("shared-experts", "DeepSeek shared experts", integer(defaults.shared_experts))
      ("first-dense", "DeepSeek leading dense layers", integer(defaults.first_dense_layers))
      ("dtype", "Storage dtype: bfloat16, float16 or float32", cxxopts::value<std::string>()->default_value("bfloat16"))
      ("seed", "Seed of the random weights", cxxopts::value<uint64_t>()->default_value("0"))
      ("tokenizer-from", "Copy the tokenizer files of this model folder", cxxopts::value<std::string>())
      ("max-shard-size", "Largest safetensors file, e.g. 5GiB", cxxopts::value<std::string>()->default_value("5GiB"))
      ("log-level", "Log level on stderr: trace, debug, info, warn, error, off",
       cxxopts::value<std::string>()->default_value("info"));

  auto parsed = parse_options(options, argc, argv);
  if (!parsed) {
    return 0;
  }
  configure_logging((*parsed)["log-level"].as<std::string>());

  exporter::SyntheticShape shape;
  shape.architecture = (*parsed)["arch"].as<std::string>();
  shape.layers = (*parsed)["layers"].as<int64_t>();
  shape.hidden = (*parsed)["hidden"].as<int64_t>();
  shape.intermediate = (*parsed)["intermediate"].as<int64_t>();
  shape.heads = (*parsed)["heads"].as<int64_t>();
  shape.kv_heads = (*parsed)["kv-heads"].as<int64_t>();
  shape.vocab = (*parsed)["vocab"].as<int64_t>();
  shape.max_position = (*parsed)["max-position"].as<int64_t>();
  shape.experts = (*parsed)["experts"].as<int64_t>();
  shape.experts_per_token = (*parsed)["top-k"].as<int64_t>();
  shape.expert_intermediate = (*parsed)["expert-intermediate"].as<int64_t>();
  shape.shared_experts = (*parsed)["shared-experts"].as<int64_t>();
  shape.first_dense_layers = (*parsed)["first-dense"].as<int64_t>();

  exporter::SyntheticOptions synthetic;
  auto dtype_text = (*parsed)["dtype"].as<std::string>();
  if (dtype_text == "bfloat16") {
    synthetic.dtype = at::kBFloat16;
  } else if (dtype_text == "float16") {
    synthetic.dtype = at::kHalf;
  } else if (dtype_text == "float32") {
    synthetic.dtype = at::kFloat;
  } else {
    throw UsageError(str("--dtype ", dtype_text, ": use bfloat16, float16 or float32"));
  }
  synthetic.config = exporter::synthetic_config(shape, synthetic.dtype);
  synthetic.out_dir = required_string(*parsed, "out");
  synthetic.overwrite = parsed->count("overwrite") > 0;
  synthetic.seed = (*parsed)["seed"].as<uint64_t>();
  synthetic.max_shard_bytes = parse_byte_size((*parsed)["max-shard-size"].as<std::string>(), "--max-shard-size");
  if (parsed->count("tokenizer-from") > 0) {
    synthetic.tokenizer_from = (*parsed)["tokenizer-from"].as<std::string>();
  }
  exporter::write_synthetic_model(synthetic);
  return 0;
}

}  // namespace dartquant::cli
