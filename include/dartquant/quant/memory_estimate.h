// Host memory a quantize run needs, estimated before the slow work starts,
// so that a run over its --max-memory budget stops at once with a message.
#pragma once

#include <cstdint>
#include <string>

#include <c10/core/ScalarType.h>

#include "dartquant/model/causal_lm.h"

namespace dartquant::quant {

/// The properties of a quantize run that decide its memory.
struct RunShape {
  bool rotated = false;         ///< quarot or dartquant: float64 working copies
  bool gptq = false;            ///< calibration activations and Hessians
  bool learns_rotations = false;  ///< DartQuant calibration: o_proj inputs of one layer
  bool release_layers = true;   ///< one layer resident at a time, else every layer
  int64_t windows = 0;          ///< calibration windows
  int64_t seqlen = 0;           ///< tokens per window
  int64_t batch_size = 8;       ///< windows per forward pass
  at::ScalarType compute_dtype = at::kFloat;
};

/// Bytes by part. The parts peak at different moments, so their sum is an
/// upper estimate.
struct MemoryEstimate {
  int64_t baseline = 0;     ///< the process as measured before quantizing (libtorch, tokenizer, head weights)
  int64_t head = 0;         ///< float64 copies of the embeddings and lm_head while they are rotated
  int64_t layers = 0;       ///< decoder-layer weights held at once, with their working copies
  int64_t activations = 0;  ///< calibration hidden states (a layer's inputs and outputs)
  int64_t gptq = 0;         ///< Hessians of the largest GPTQ group of one layer
  int64_t margin = 0;       ///< temporaries and allocator slack: 32 MiB + 10% of the parts above the baseline

  int64_t total() const { return baseline + head + layers + activations + gptq + margin; }

  /// "baseline 310 MiB + head 4 MiB + ..." for logs and errors.
  std::string describe() const;
};

/// Estimates from the model's shapes (its layers may be shape-only shells)
/// and the current resident set as the baseline.
MemoryEstimate estimate_quantize_memory(model::CausalLM& model, const RunShape& run);

/// Throws dartquant::Error when `estimate` exceeds `budget` bytes, with the
/// message documented in docs/cli.md: how much the run needs, by part, and
/// what to change.
void check_memory_budget(const MemoryEstimate& estimate, int64_t budget);

}  // namespace dartquant::quant
