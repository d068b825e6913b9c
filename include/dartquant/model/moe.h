// Sparse Mixture-of-Experts block: a router picks top-k experts per token,
// each expert MLP runs once on exactly the tokens routed to it, and the outputs
// are summed with the routing weights. DeepSeek-MoE adds always-on shared
// experts (one fused MLP).
#pragma once

#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/model/config.h"
#include "dartquant/model/forward_context.h"
#include "dartquant/model/linear.h"
#include "dartquant/model/mlp.h"
#include "dartquant/model/weight_loader.h"

namespace dartquant::model {

class MoeBlock {
 public:
  MoeBlock() = default;
  MoeBlock(const ModelConfig& config, int64_t layer, WeightLoader& loader);

  /// x: [batch, seq, hidden] (normalized); returns the block output, same shape.
  /// Reports the routing to context.router_observer when it is set.
  at::Tensor forward(const at::Tensor& x, const ForwardContext& context) const;

  /// Routes N tokens x: [N, hidden]: softmax over all experts in at least
  /// float32, top-k, renormalized when the config sets norm_topk_prob.
  RouterDecision route(const at::Tensor& x) const;

  Linear router;  ///< [experts, hidden]; kept in full precision by quantization
  std::vector<Mlp> experts;
  std::optional<Mlp> shared_experts;

 private:
  int64_t layer_ = -1;
  int64_t top_k_ = 0;
  bool normalize_top_k_ = true;
  double normalize_epsilon_ = 0.0;
};

}  // namespace dartquant::model
