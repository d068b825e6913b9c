#include "dartquant/model/causal_lm.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/memory.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/model/norm.h"
#include "dartquant/model/weight_loader.h"

namespace dartquant::model {

CausalLM::CausalLM(ModelConfig config, ComputeOptions options)
    : config_(std::move(config)), options_(options), rope_(config_, config_.max_position_embeddings, options_) {}

CausalLM CausalLM::load(const std::filesystem::path& dir, const ComputeOptions& options, const WeightDecoder& decoder,
                        LayerLoading loading) {
  CausalLM model(ModelConfig::load(dir), options);
  const ModelConfig& config = model.config_;
  auto checkpoint = std::make_shared<const io::Checkpoint>(io::Checkpoint::open(dir));
  WeightLoader loader(*checkpoint, options, decoder);

  model.embed_tokens = loader.load("model.embed_tokens.weight", {config.vocab_size, config.hidden_size});
  model.layers_.reserve(config.num_hidden_layers);
  if (loading == LayerLoading::kOnDemand) {
    model.checkpoint_ = checkpoint;
    model.decoder_ = decoder;
    loader.set_reading(WeightReading::kShapesOnly);
  }
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    model.layers_.emplace_back(config, i, loader);
  }
  loader.set_reading(WeightReading::kValues);
  model.final_norm = loader.load("model.norm.weight", {config.hidden_size});

  // A tied model may still store a copy of the embedding as lm_head.weight;
  // Hugging Face ignores it, and so do we.
  LinearSite head_site{LinearRole::kLmHead, MlpKind::kNone, -1, -1};
  if (config.tie_word_embeddings) {
    if (loader.contains("lm_head.weight")) {
      loader.skip("lm_head.weight");
    }
    model.lm_head = Linear("lm_head.weight", head_site, model.embed_tokens);
  } else {
    model.lm_head = Linear("lm_head.weight", head_site,
                           loader.load("lm_head.weight", {config.vocab_size, config.hidden_size}));
  }
  loader.check_all_consumed();

  spdlog::info("loaded {} ({} layers, hidden {}, {} heads / {} KV heads{}) from {}", config.model_type,
               config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.num_key_value_heads,
               config.moe ? ", " + std::to_string(config.moe->num_experts) + " experts top-" +
                                std::to_string(config.moe->num_experts_per_tok)
                          : std::string(),
               dir.string());
  return model;
}

void CausalLM::load_layer(int64_t index) {
  DQ_CHECK(checkpoint_ != nullptr, "load_layer: the model was not loaded with LayerLoading::kOnDemand");
  DQ_CHECK(index >= 0 && index < static_cast<int64_t>(layers_.size()), "load_layer: no layer ", index);
  WeightLoader loader(*checkpoint_, options_, decoder_);
  auto& layer = layers_[static_cast<size_t>(index)];
  layer = DecoderLayer(config_, index, loader);
  if (layer_setup_) {
    layer_setup_(layer);
  }
}

void CausalLM::release_layer(int64_t index) {
  DQ_CHECK(checkpoint_ != nullptr, "release_layer: the model was not loaded with LayerLoading::kOnDemand");
  DQ_CHECK(index >= 0 && index < static_cast<int64_t>(layers_.size()), "release_layer: no layer ", index);
  // Shape-only copies keep what later steps read (shapes, dtypes); biases are small and stay.
  auto shell = [](const at::Tensor& tensor) {
    return tensor.defined() ? at::empty(tensor.sizes(), tensor.options().device(at::kMeta)) : tensor;
  };
  auto& layer = layers_[static_cast<size_t>(index)];
  layer.input_layernorm = shell(layer.input_layernorm);
  layer.post_attention_layernorm = shell(layer.post_attention_layernorm);
  layer.for_each_linear([&](Linear& linear) { linear.set_weight(shell(linear.weight())); });
  release_free_memory();
}

bool CausalLM::layer_loaded(int64_t index) const {
  return !layers_.at(static_cast<size_t>(index)).attention.q_proj.weight().is_meta();
}

ForwardContext CausalLM::context(const RouterObserver& router_observer) const {
  ForwardContext context;
  context.rope = &rope_;
  context.router_observer = router_observer;
  return context;
}

at::Tensor CausalLM::embed(const at::Tensor& input_ids) const {
  DQ_CHECK(input_ids.dim() == 2, "input_ids must be [batch, seq], got ", input_ids.sizes());
  auto ids = input_ids.to(options_.device, at::kLong);
  int64_t low = ids.min().item<int64_t>();
  int64_t high = ids.max().item<int64_t>();
  DQ_CHECK(low >= 0 && high < config_.vocab_size, "token ids must lie in [0, ", config_.vocab_size, "), got [", low,
           ", ", high, "]; the tokenizer does not match the model");
  return at::embedding(embed_tokens, ids).to(options_.dtype);
}

at::Tensor CausalLM::head(const at::Tensor& hidden) const {
  return lm_head.forward(rms_norm(hidden, final_norm, config_.rms_norm_eps));
}

at::Tensor CausalLM::forward(const at::Tensor& input_ids, const RouterObserver& router_observer) const {
  DQ_CHECK(input_ids.size(1) <= config_.max_position_embeddings, "sequence of ", input_ids.size(1),
           " tokens exceeds max_position_embeddings (", config_.max_position_embeddings, ")");
  auto context = this->context(router_observer);
  auto hidden = embed(input_ids);
  for (const auto& layer : layers_) {
    DQ_CHECK(layer_loaded(layer.index()), "layer ", layer.index(),
             " holds no weights: the model loads its layers on demand, so load_layer() it before running it");
    hidden = layer.forward(hidden, context);
  }
  return head(hidden);
}

}  // namespace dartquant::model
