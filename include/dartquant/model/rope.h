// Rotary position embedding in the rotate-half layout of Hugging Face Llama:
// x' = x·cos + rotate_half(x)·sin, with frequencies duplicated over both halves.
#pragma once

#include <ATen/core/Tensor.h>

#include "dartquant/core/compute.h"
#include "dartquant/model/config.h"

namespace dartquant::model {

/// Inverse frequencies [head_dim / 2] (float64) for rope_theta and the
/// configured scaling (linear: divided by factor; llama3: per-band rule).
at::Tensor rope_inverse_frequencies(const ModelConfig& config);

/// Cos/sin tables for positions 0 .. max_positions-1, computed in float64 and
/// stored in the compute dtype on the compute device.
class RotaryEmbedding {
 public:
  RotaryEmbedding(const ModelConfig& config, int64_t max_positions, const ComputeOptions& options);

  /// Rotates x: [batch, heads, seq, head_dim] at positions 0 .. seq-1.
  at::Tensor apply(const at::Tensor& x) const;

  int64_t max_positions() const { return cos_.size(0); }

 private:
  at::Tensor cos_;  // [max_positions, head_dim]
  at::Tensor sin_;  // [max_positions, head_dim]
};

}  // namespace dartquant::model
