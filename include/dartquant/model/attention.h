// Causal multi-head self-attention with grouped KV heads (GQA) and RoPE.
#pragma once

#include <ATen/core/Tensor.h>

#include "dartquant/model/config.h"
#include "dartquant/model/forward_context.h"
#include "dartquant/model/linear.h"
#include "dartquant/model/weight_loader.h"

namespace dartquant::model {

class Attention {
 public:
  Attention() = default;
  Attention(const ModelConfig& config, int64_t layer, WeightLoader& loader);

  /// hidden: [batch, seq, hidden_size] (already normalized); returns the o_proj output, same shape.
  at::Tensor forward(const at::Tensor& hidden, const ForwardContext& context) const;

  /// Online transform of q and k after RoPE, [batch, heads, seq, head_dim]
  /// (R3: a Hadamard over head_dim that preserves q·kᵀ).
  void set_query_key_rotation(TensorFunction rotation) { query_key_rotation_ = std::move(rotation); }

  /// KV-cache quantizers, [batch, kv_heads, seq, head_dim]: K after RoPE and
  /// R3, V at the v_proj output.
  void set_key_quantizer(TensorFunction quantizer) { key_quantizer_ = std::move(quantizer); }
  void set_value_quantizer(TensorFunction quantizer) { value_quantizer_ = std::move(quantizer); }

  Linear q_proj;
  Linear k_proj;
  Linear v_proj;
  Linear o_proj;

 private:
  int64_t num_heads_ = 0;
  int64_t num_kv_heads_ = 0;
  int64_t head_dim_ = 0;
  int64_t sliding_window_ = 0;  // 0: no window
  TensorFunction query_key_rotation_;
  TensorFunction key_quantizer_;
  TensorFunction value_quantizer_;
};

/// Softmax attention of q [B, h, T, d] over k, v [B, h_kv, T, d] with a causal
/// (optionally sliding-window) mask; returns [B, h, T, d]. Query heads
/// g·n_rep … g·n_rep + n_rep − 1 share KV head g. Long sequences are processed
/// in query blocks so the score matrix stays small.
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t sliding_window);

}  // namespace dartquant::model
