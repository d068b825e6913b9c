#include "dartquant/rotation/rotate.h"

#include <cmath>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/rotation/hadamard.h"

namespace dartquant::rotation {
namespace {

using model::Linear;
using model::LinearRole;

bool reads_residual(const Linear& linear) {
  switch (linear.site().role) {
    case LinearRole::kQuery:
    case LinearRole::kKey:
    case LinearRole::kValue:
    case LinearRole::kGate:
    case LinearRole::kUp:
    case LinearRole::kRouter:
    case LinearRole::kLmHead:
      return true;
    default:
      return false;
  }
}

bool writes_residual(const Linear& linear) {
  auto role = linear.site().role;
  return role == LinearRole::kOutput || role == LinearRole::kDown;
}

/// W ← W·T for an input-side transform T [in, in].
void transform_input(Linear& linear, const at::Tensor& transform) {
  auto weight = linear.weight();
  linear.set_weight(at::matmul(weight, transform.to(weight.scalar_type())));
}

/// (I_h ⊗ H_{d_h}/√d_h): the per-head Hadamard as one [h·d_h, h·d_h] matrix.
at::Tensor per_head_hadamard(int64_t heads, int64_t head_dim, at::ScalarType dtype) {
  return at::kron(at::eye(heads, at::kDouble), normalized_hadamard(head_dim)).to(dtype);
}

}  // namespace

void apply_r1(model::CausalLM& model, const at::Tensor& r1) {
  apply_r1_to_head(model, r1);
  for (auto& layer : model.layers()) {
    apply_r1(layer, r1);
  }
}

void apply_r1_to_head(model::CausalLM& model, const at::Tensor& r1) {
  int64_t hidden = model.config().hidden_size;
  DQ_CHECK(r1.dim() == 2 && r1.size(0) == hidden && r1.size(1) == hidden, "R1 must be [", hidden, ", ", hidden,
           "], got ", r1.sizes());
  DQ_CHECK(!model.lm_head.weight().is_same(model.embed_tokens), "apply_r1: untie lm_head first (convert_weights does)");
  auto rotation = r1.to(model.embed_tokens.device(), model.embed_tokens.scalar_type());
  model.embed_tokens = at::matmul(model.embed_tokens, rotation);
  transform_input(model.lm_head, rotation);
}

void apply_r1(model::DecoderLayer& layer, const at::Tensor& r1) {
  DQ_CHECK(!layer.input_layernorm.defined() && !layer.post_attention_layernorm.defined(), "layer ", layer.index(),
           ": fold the RMSNorm weights before applying R1");
  auto rotation = r1.to(layer.attention.q_proj.weight().device(), layer.attention.q_proj.weight().scalar_type());
  layer.for_each_linear([&](Linear& linear) {
    if (reads_residual(linear)) {
      transform_input(linear, rotation);
    } else if (writes_residual(linear)) {
      auto weight = linear.weight();
      linear.set_weight(at::matmul(rotation.t().to(weight.scalar_type()), weight));
      DQ_CHECK(!linear.bias().defined(), linear.name(), ": output biases are not supported under R1");
    }
  });
}

void apply_r2_offline(model::DecoderLayer& layer, const model::ModelConfig& config, const at::Tensor& r2) {
  int64_t kv_heads = config.num_key_value_heads;
  int64_t head_dim = config.head_dim;
  DQ_CHECK(r2.dim() == 3 && r2.size(0) == kv_heads && r2.size(1) == head_dim && r2.size(2) == head_dim,
           "R2 of layer ", layer.index(), " must be [", kv_heads, ", ", head_dim, ", ", head_dim, "], got ",
           r2.sizes());
  auto& attention = layer.attention;
  auto dtype = attention.v_proj.weight().scalar_type();
  auto rotation = r2.to(attention.v_proj.weight().device(), dtype);

  // v_proj rows of head g: W_g ← R2[g]ᵀ·W_g, as one block-diagonal product.
  auto value_block = at::block_diag(at::TensorList(rotation.unbind(0)));  // [kv·d, kv·d]
  attention.v_proj.set_weight(at::matmul(value_block.t(), attention.v_proj.weight()));

  // o_proj columns of query head j: W_j ← W_j·R2[j / n_rep].
  auto per_query_head = rotation.repeat_interleave(config.num_key_value_groups(), 0);
  auto output_block = at::block_diag(at::TensorList(per_query_head.unbind(0)));  // [h·d, h·d]
  transform_input(attention.o_proj, output_block);
}

void apply_quarot_r2(model::DecoderLayer& layer, const model::ModelConfig& config) {
  int64_t heads = config.num_attention_heads;
  int64_t kv_heads = config.num_key_value_heads;
  int64_t head_dim = config.head_dim;
  auto& attention = layer.attention;
  auto dtype = attention.v_proj.weight().scalar_type();

  // Offline: each value head's rows get H_{d_h}/√d_h, so v_g ← v_g·H.
  auto value_block = per_head_hadamard(kv_heads, head_dim, dtype);
  attention.v_proj.set_weight(at::matmul(value_block.t(), attention.v_proj.weight()));

  // The o_proj input is then o·(I_h ⊗ H_{d_h}); the online step multiplies by
  // (H_h ⊗ I_{d_h})/√h. o_proj compensates the product of both.
  auto cross_head = at::kron(normalized_hadamard(heads), at::eye(head_dim, at::kDouble)).to(dtype);
  transform_input(attention.o_proj, at::matmul(per_head_hadamard(heads, head_dim, dtype), cross_head));
  install_quarot_r2_online(layer, config);
}

void install_quarot_r2_online(model::DecoderLayer& layer, const model::ModelConfig& config) {
  int64_t heads = config.num_attention_heads;
  int64_t head_dim = config.head_dim;
  layer.attention.o_proj.set_input_rotation([heads, head_dim](const at::Tensor& x) {
    // x: [..., h·d_h] -> [..., d_h, h] so the head axis is last, then x·M_h.
    auto shape = x.sizes().vec();
    auto by_head = x.reshape({-1, heads, head_dim}).transpose(1, 2);
    return apply_hadamard(by_head, heads).transpose(1, 2).reshape(shape);
  });
}

void apply_r4(model::CausalLM& model) {
  for (auto& layer : model.layers()) {
    apply_r4(layer);
  }
}

void apply_r4(model::DecoderLayer& layer) {
  layer.for_each_linear([&](Linear& linear) {
    if (linear.site().role != LinearRole::kDown) {
      return;
    }
    // W·Mᵀ row by row with the fast transform: a dense M of Mixtral's
    // 14336 would cost 1.6 GB and a 1.7 TFLOP product per expert.
    linear.set_weight(apply_hadamard(linear.weight(), linear.in_features(), /*transpose=*/true));
  });
  install_r4_online(layer);
}

void install_r4_online(model::CausalLM& model) {
  for (auto& layer : model.layers()) {
    install_r4_online(layer);
  }
}

void install_r4_online(model::DecoderLayer& layer) {
  layer.for_each_linear([&](Linear& linear) {
    if (linear.site().role != LinearRole::kDown) {
      return;
    }
    int64_t width = linear.in_features();
    linear.set_input_rotation([width](const at::Tensor& x) { return apply_hadamard(x, width, /*transpose=*/true); });
  });
}

void apply_r3(model::CausalLM& model) {
  for (auto& layer : model.layers()) {
    apply_r3(layer, model.config());
  }
}

void apply_r3(model::DecoderLayer& layer, const model::ModelConfig& config) {
  int64_t head_dim = config.head_dim;
  layer.attention.set_query_key_rotation([head_dim](const at::Tensor& x) { return apply_hadamard(x, head_dim); });
}

}  // namespace dartquant::rotation
