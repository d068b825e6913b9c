#include "dartquant/model/moe.h"

#include <ATen/ATen.h>

#include "dartquant/core/error.h"

namespace dartquant::model {

MoeBlock::MoeBlock(const ModelConfig& config, int64_t layer, WeightLoader& loader) : layer_(layer) {
  DQ_CHECK(config.moe.has_value(), "layer ", layer, " is not a Mixture-of-Experts layer");
  const MoeConfig& moe = *config.moe;
  top_k_ = moe.num_experts_per_tok;
  normalize_top_k_ = moe.norm_topk_prob;
  std::string layer_prefix = "model.layers." + std::to_string(layer) + ".";
  int64_t hidden = config.hidden_size;
  bool bias = config.mlp_bias;

  std::string block_prefix;
  std::string expert_prefix;
  MlpNames names;
  if (config.architecture == Architecture::kMixtral) {
    block_prefix = layer_prefix + "block_sparse_moe.";
    names = MlpNames{"w1", "w3", "w2"};
  } else {
    block_prefix = layer_prefix + "mlp.";
    // DeepSeek-MoE's gate adds 1e-20 to the denominator when it renormalizes.
    normalize_epsilon_ = 1e-20;
  }

  std::string router_name = block_prefix + "gate.weight";
  router = Linear(router_name, LinearSite{LinearRole::kRouter, MlpKind::kNone, layer, -1},
                  loader.load(router_name, {moe.num_experts, hidden}));

  experts.reserve(moe.num_experts);
  for (int64_t e = 0; e < moe.num_experts; ++e) {
    LinearSite site{LinearRole::kGate, MlpKind::kExpert, layer, e};
    experts.emplace_back(loader, block_prefix + "experts." + std::to_string(e) + ".", names, site, hidden,
                         moe.expert_intermediate_size, bias);
  }

  if (moe.num_shared_experts > 0) {
    LinearSite site{LinearRole::kGate, MlpKind::kSharedExpert, layer, -1};
    shared_experts.emplace(loader, block_prefix + "shared_experts.", MlpNames{}, site, hidden,
                           moe.num_shared_experts * moe.expert_intermediate_size, bias);
  }
}

RouterDecision MoeBlock::route(const at::Tensor& x) const {
  auto logits = router.forward(x);
  auto probability_dtype = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  auto probabilities = logits.to(probability_dtype).softmax(-1);

  auto [weights, indices] = probabilities.topk(top_k_, -1, /*largest=*/true, /*sorted=*/true);
  if (normalize_top_k_) {
    weights = weights / (weights.sum(-1, /*keepdim=*/true) + normalize_epsilon_);
  }
  return RouterDecision{layer_, probabilities, indices, weights};
}

at::Tensor MoeBlock::forward(const at::Tensor& x, const ForwardContext& context) const {
  auto shape = x.sizes().vec();
  auto tokens = x.reshape({-1, x.size(-1)});
  int64_t count = tokens.size(0);

  RouterDecision decision = route(tokens);
  if (context.router_observer) {
    context.router_observer(decision);
  }

  // Sort the (token, slot) assignments by expert so that each expert gets one
  // contiguous group of its tokens.
  auto flat_experts = decision.expert_indices.reshape(-1);
  auto flat_weights = decision.weights.reshape(-1).to(x.scalar_type());
  auto token_ids = at::arange(count, flat_experts.options()).repeat_interleave(top_k_);
  auto order = std::get<1>(flat_experts.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  auto counts = at::bincount(flat_experts, /*weights=*/{}, static_cast<int64_t>(experts.size())).cpu();
  auto counts_view = counts.accessor<int64_t, 1>();

  auto output = at::zeros_like(tokens);
  int64_t start = 0;
  for (size_t e = 0; e < experts.size(); ++e) {
    int64_t routed = counts_view[static_cast<int64_t>(e)];
    if (routed == 0) {
      continue;
    }
    auto slots = order.narrow(0, start, routed);
    auto expert_tokens = token_ids.index_select(0, slots);
    auto result = experts[e].forward(tokens.index_select(0, expert_tokens));
    output.index_add_(0, expert_tokens, result * flat_weights.index_select(0, slots).unsqueeze(1));
    start += routed;
  }

  if (shared_experts) {
    output = output + shared_experts->forward(tokens);
  }
  return output.view(shape);
}

}  // namespace dartquant::model
