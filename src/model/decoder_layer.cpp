#include "dartquant/model/decoder_layer.h"

#include <ATen/ATen.h>

#include "dartquant/model/norm.h"

namespace dartquant::model {

DecoderLayer::DecoderLayer(const ModelConfig& config, int64_t index, WeightLoader& loader)
    : attention(config, index, loader), index_(index), eps_(config.rms_norm_eps) {
  std::string prefix = "model.layers." + std::to_string(index) + ".";
  input_layernorm = loader.load(prefix + "input_layernorm.weight", {config.hidden_size});
  post_attention_layernorm = loader.load(prefix + "post_attention_layernorm.weight", {config.hidden_size});

  if (config.is_moe_layer(index)) {
    moe.emplace(config, index, loader);
  } else {
    LinearSite site{LinearRole::kGate, MlpKind::kDense, index, -1};
    mlp.emplace(loader, prefix + "mlp.", MlpNames{}, site, config.hidden_size, config.intermediate_size,
                config.mlp_bias);
  }
}

at::Tensor DecoderLayer::forward(const at::Tensor& hidden, const ForwardContext& context) const {
  auto residual = hidden + attention.forward(rms_norm(hidden, input_layernorm, eps_), context);
  auto normalized = rms_norm(residual, post_attention_layernorm, eps_);
  auto update = moe ? moe->forward(normalized, context) : mlp->forward(normalized);
  return residual + update;
}

void DecoderLayer::for_each_linear(const std::function<void(Linear&)>& visit) {
  visit(attention.q_proj);
  visit(attention.k_proj);
  visit(attention.v_proj);
  visit(attention.o_proj);
  auto visit_mlp = [&](Mlp& block) {
    visit(block.gate_proj);
    visit(block.up_proj);
    visit(block.down_proj);
  };
  if (mlp) {
    visit_mlp(*mlp);
    return;
  }
  visit(moe->router);
  for (auto& expert : moe->experts) {
    visit_mlp(expert);
  }
  if (moe->shared_experts) {
    visit_mlp(*moe->shared_experts);
  }
}

}  // namespace dartquant::model
