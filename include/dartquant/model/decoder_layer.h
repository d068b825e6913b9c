// One pre-norm transformer decoder layer:
//   h   = x + attention(rms_norm(x))
//   out = h + mlp(rms_norm(h))        (mlp: dense SwiGLU or a MoE block)
#pragma once

#include <functional>
#include <optional>

#include <ATen/core/Tensor.h>

#include "dartquant/model/attention.h"
#include "dartquant/model/config.h"
#include "dartquant/model/forward_context.h"
#include "dartquant/model/linear.h"
#include "dartquant/model/mlp.h"
#include "dartquant/model/moe.h"
#include "dartquant/model/weight_loader.h"

namespace dartquant::model {

class DecoderLayer {
 public:
  DecoderLayer(const ModelConfig& config, int64_t index, WeightLoader& loader);

  /// hidden: [batch, seq, hidden_size] residual stream in the compute dtype;
  /// returns the layer's output residual stream. Usable on its own, one layer
  /// at a time, given the rope table in `context`.
  at::Tensor forward(const at::Tensor& hidden, const ForwardContext& context) const;

  /// Calls `visit` for every Linear of the layer (attention, MLP or router and
  /// experts, shared experts), in execution order.
  void for_each_linear(const std::function<void(Linear&)>& visit);

  int64_t index() const { return index_; }
  bool is_moe() const { return moe.has_value(); }

  at::Tensor input_layernorm;           ///< [hidden] or undefined once folded
  at::Tensor post_attention_layernorm;  ///< [hidden] or undefined once folded
  Attention attention;
  std::optional<Mlp> mlp;       ///< dense layers
  std::optional<MoeBlock> moe;  ///< MoE layers

 private:
  int64_t index_;
  double eps_;
};

}  // namespace dartquant::model
