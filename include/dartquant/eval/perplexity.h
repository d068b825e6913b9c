// Perplexity over non-overlapping windows of a token stream (GPTQ protocol):
// the stream is cut into floor(N / seqlen) windows (tail dropped), each window
// is scored from position 0, its loss is the mean next-token cross-entropy over
// its seqlen − 1 predictions, and PPL = exp(mean of the window losses).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "dartquant/model/causal_lm.h"

namespace dartquant::eval {

struct PerplexityOptions {
  int64_t seqlen = 2048;
  int64_t batch_size = 0;              ///< windows per forward pass; 0 picks one from seqlen
  std::optional<int64_t> limit;        ///< score only the first N windows
  bool show_progress = true;
};

struct PerplexityResult {
  double perplexity = 0;
  double mean_nll = 0;         ///< nats per predicted token
  double nll_stderr = 0;       ///< standard error of the mean window loss
  double perplexity_stderr = 0;  ///< delta method: perplexity · nll_stderr
  int64_t windows = 0;
  int64_t stream_tokens = 0;
  int64_t predicted_tokens = 0;
  double seconds = 0;
  double tokens_per_second = 0;  ///< window tokens through the model per second
  std::vector<double> window_nll;
};

/// Scores `stream` with `model`. Throws when the stream is shorter than one
/// window. A model whose layers are not all in memory (loaded on demand) is
/// run layer-major: each missing layer is read once for all windows and
/// released (the hidden states of all windows stay in memory), with the same
/// results.
PerplexityResult evaluate_perplexity(model::CausalLM& model, const std::vector<int64_t>& stream,
                                     const PerplexityOptions& options,
                                     const model::RouterObserver& router_observer = {});

}  // namespace dartquant::eval
