// A decoder-only causal language model (Llama, Mistral, Mixtral, DeepSeek-MoE)
// loaded from a Hugging Face folder.
#pragma once

#include <filesystem>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/core/compute.h"
#include "dartquant/model/config.h"
#include "dartquant/model/decoder_layer.h"
#include "dartquant/model/forward_context.h"
#include "dartquant/model/linear.h"
#include "dartquant/model/rope.h"
#include "dartquant/model/weight_loader.h"

namespace dartquant::model {

class CausalLM {
 public:
  /// Loads config.json and the safetensors weights (single file or sharded)
  /// of `dir`. Weights keep their checkpoint dtype on `options.device`.
  /// `decoder` rebuilds weights stored in a quantized format (see WeightLoader).
  static CausalLM load(const std::filesystem::path& dir, const ComputeOptions& options,
                       const WeightDecoder& decoder = {});

  /// input_ids: [batch, seq] int64 -> logits [batch, seq, vocab] in the compute dtype.
  at::Tensor forward(const at::Tensor& input_ids, const RouterObserver& router_observer = {}) const;

  /// Token embeddings [batch, seq, hidden] in the compute dtype.
  at::Tensor embed(const at::Tensor& input_ids) const;

  /// Final norm and lm_head: hidden [batch, seq, hidden] -> logits [batch, seq, vocab].
  at::Tensor head(const at::Tensor& hidden) const;

  /// A context for running layers one at a time on hidden states of up to
  /// max_position_embeddings tokens.
  ForwardContext context(const RouterObserver& router_observer = {}) const;

  const ModelConfig& config() const { return config_; }
  const ComputeOptions& options() const { return options_; }
  std::vector<DecoderLayer>& layers() { return layers_; }
  const std::vector<DecoderLayer>& layers() const { return layers_; }

  at::Tensor embed_tokens;  ///< [vocab, hidden]
  at::Tensor final_norm;    ///< [hidden] or undefined once folded
  Linear lm_head;           ///< [vocab, hidden]; shares embed_tokens when tied

 private:
  CausalLM(ModelConfig config, ComputeOptions options);

  ModelConfig config_;
  ComputeOptions options_;
  RotaryEmbedding rope_;
  std::vector<DecoderLayer> layers_;
};

}  // namespace dartquant::model
