// Per-call state shared by the decoder layers of one forward pass.
#pragma once

#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>

#include "dartquant/model/rope.h"

namespace dartquant::model {

/// The routing of one MoE layer for a batch of N tokens (flattened batch × seq).
struct RouterDecision {
  int64_t layer = -1;
  at::Tensor probabilities;   ///< [N, experts], float32 or float64: softmax of the router logits
  at::Tensor expert_indices;  ///< [N, top_k], int64, by descending probability
  at::Tensor weights;         ///< [N, top_k], the factors applied to the expert outputs
};

using RouterObserver = std::function<void(const RouterDecision&)>;

struct ForwardContext {
  const RotaryEmbedding* rope = nullptr;
  RouterObserver router_observer;  ///< called once per MoE layer when set
};

}  // namespace dartquant::model
