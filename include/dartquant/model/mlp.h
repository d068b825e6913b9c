// The SwiGLU MLP of Llama-family models: down(silu(gate(x)) ⊙ up(x)).
#pragma once

#include <string>

#include <ATen/core/Tensor.h>

#include "dartquant/model/linear.h"
#include "dartquant/model/weight_loader.h"

namespace dartquant::model {

/// Checkpoint names of the three projections: Llama/DeepSeek use
/// gate_proj/up_proj/down_proj, Mixtral experts w1/w3/w2.
struct MlpNames {
  std::string gate = "gate_proj";
  std::string up = "up_proj";
  std::string down = "down_proj";
};

class Mlp {
 public:
  Mlp() = default;

  /// Loads `<prefix><gate|up|down>.weight` with inner width `intermediate`.
  Mlp(WeightLoader& loader, const std::string& prefix, const MlpNames& names, LinearSite site, int64_t hidden,
      int64_t intermediate, bool bias);

  /// x: [..., hidden] -> [..., hidden]
  at::Tensor forward(const at::Tensor& x) const;

  int64_t intermediate_size() const { return gate_proj.out_features(); }

  Linear gate_proj;
  Linear up_proj;
  Linear down_proj;
};

}  // namespace dartquant::model
