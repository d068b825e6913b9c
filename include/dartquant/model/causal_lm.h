// A decoder-only causal language model (Llama, Mistral, Mixtral, DeepSeek-MoE)
// loaded from a Hugging Face folder.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
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

/// When the decoder layers' weights are read.
enum class LayerLoading {
  kAll,       ///< every layer at load time
  kOnDemand,  ///< by load_layer(i); until then a layer holds shape-only (meta) weights
};

class CausalLM {
 public:
  /// Loads config.json and the safetensors weights (single file or sharded)
  /// of `dir`. Weights keep their checkpoint dtype on `options.device`.
  /// `decoder` rebuilds weights stored in a quantized format (see WeightLoader).
  /// With LayerLoading::kOnDemand only the embeddings, the final norm and
  /// lm_head are read; every tensor's name, shape and dtype is still checked.
  static CausalLM load(const std::filesystem::path& dir, const ComputeOptions& options,
                       const WeightDecoder& decoder = {}, LayerLoading loading = LayerLoading::kAll);

  /// Models loaded with LayerLoading::kOnDemand: reads layer `index` from the
  /// memory-mapped checkpoint (a fresh copy, discarding any change made to
  /// it), and turns it back into a shape-only shell, which frees its memory.
  /// Peak memory then contains one layer at a time.
  void load_layer(int64_t index);
  void release_layer(int64_t index);
  bool loads_layers_on_demand() const { return checkpoint_ != nullptr; }

  /// Returns whether layer `index` has its weights (is not a shape-only
  /// shell). A quantized layer that was never released must not be read again.
  bool layer_loaded(int64_t index) const;

  /// Runs `setup` on every layer load_layer reads from now on, e.g. to
  /// install the online transforms of a packed model.
  void set_layer_setup(std::function<void(DecoderLayer&)> setup) { layer_setup_ = std::move(setup); }

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
  std::shared_ptr<const io::Checkpoint> checkpoint_;  ///< set for LayerLoading::kOnDemand
  WeightDecoder decoder_;                             ///< kept for load_layer
  std::function<void(DecoderLayer&)> layer_setup_;
};

}  // namespace dartquant::model
