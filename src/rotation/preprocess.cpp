#include "dartquant/rotation/preprocess.h"

#include <ATen/ATen.h>

#include "dartquant/core/error.h"

namespace dartquant::rotation {
namespace {

using model::Linear;
using model::LinearRole;

/// W ← W·diag(γ): scales the input columns.
void scale_input_columns(Linear& linear, const at::Tensor& gamma) {
  auto weight = linear.weight();
  linear.set_weight(weight * gamma.to(weight.scalar_type()).unsqueeze(0));
}

bool reads_post_attention_norm(const Linear& linear) {
  auto role = linear.site().role;
  return role == LinearRole::kGate || role == LinearRole::kUp || role == LinearRole::kRouter;
}

bool reads_input_norm(const Linear& linear) {
  auto role = linear.site().role;
  return role == LinearRole::kQuery || role == LinearRole::kKey || role == LinearRole::kValue;
}

}  // namespace

void convert_weights(model::CausalLM& model, c10::ScalarType dtype) {
  convert_head_weights(model, dtype);
  for (auto& layer : model.layers()) {
    convert_weights(layer, dtype);
  }
}

void convert_head_weights(model::CausalLM& model, c10::ScalarType dtype) {
  bool tied = model.lm_head.weight().is_same(model.embed_tokens);
  model.embed_tokens = model.embed_tokens.to(dtype);
  model.lm_head.set_weight(tied ? model.embed_tokens.clone() : model.lm_head.weight().to(dtype));
  if (model.final_norm.defined()) {
    model.final_norm = model.final_norm.to(dtype);
  }
}

void convert_weights(model::DecoderLayer& layer, c10::ScalarType dtype) {
  if (layer.input_layernorm.defined()) {
    layer.input_layernorm = layer.input_layernorm.to(dtype);
  }
  if (layer.post_attention_layernorm.defined()) {
    layer.post_attention_layernorm = layer.post_attention_layernorm.to(dtype);
  }
  layer.for_each_linear([&](Linear& linear) { linear.set_weight(linear.weight().to(dtype)); });
}

void center_embeddings(model::CausalLM& model) {
  DQ_CHECK(!model.lm_head.weight().is_same(model.embed_tokens),
           "center_embeddings: untie lm_head first (convert_weights does)");
  model.embed_tokens = model.embed_tokens - model.embed_tokens.mean(1, /*keepdim=*/true);
}

void fold_norms(model::CausalLM& model) {
  for (auto& layer : model.layers()) {
    fold_norms(layer);
  }
  fold_final_norm(model);
}

void fold_final_norm(model::CausalLM& model) {
  DQ_CHECK(!model.lm_head.weight().is_same(model.embed_tokens), "fold_norms: untie lm_head first (convert_weights does)");
  if (model.final_norm.defined()) {
    scale_input_columns(model.lm_head, model.final_norm);
    model.final_norm = at::Tensor();
  }
}

void fold_norms(model::DecoderLayer& layer) {
  if (layer.input_layernorm.defined()) {
    auto gamma = layer.input_layernorm;
    layer.for_each_linear([&](Linear& linear) {
      if (reads_input_norm(linear)) {
        scale_input_columns(linear, gamma);
      }
    });
    layer.input_layernorm = at::Tensor();
  }
  if (layer.post_attention_layernorm.defined()) {
    auto gamma = layer.post_attention_layernorm;
    layer.for_each_linear([&](Linear& linear) {
      if (reads_post_attention_norm(linear)) {
        scale_input_columns(linear, gamma);
      }
    });
    layer.post_attention_layernorm = at::Tensor();
  }
}

void prepare_for_rotation(model::DecoderLayer& layer) {
  convert_weights(layer, at::kDouble);
  fold_norms(layer);
}

}  // namespace dartquant::rotation
