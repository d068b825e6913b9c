// Batched log-likelihood scoring of tokenized requests, as lm-eval 0.4.3's Hugging Face
// backend scores them: left truncation to the model's maximum length, the sum of the
// continuation tokens' log-probabilities, and whether every one of them is the argmax.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "dartquant/model/causal_lm.h"
#include "dartquant/tasks/request_encoding.h"

namespace dartquant::tasks {

struct LoglikelihoodResult {
  double loglikelihood = 0;  ///< sum of log p(continuation token | prefix), nats
  bool is_greedy = false;    ///< every continuation token is the argmax of its distribution
};

struct ScorerOptions {
  /// Sequences per forward pass; 0 picks a count from a token budget that bounds the
  /// [batch, seq, vocab] logits buffer.
  int64_t batch_size = 0;
  /// Called after each forward pass with the number of requests it finished and the
  /// number of tokens it ran (for progress bars).
  std::function<void(int64_t requests, int64_t tokens)> on_batch;
};

/// Counts that show how much work the sharing of sequences saved.
struct ScoringStats {
  int64_t requests = 0;
  int64_t sequences = 0;  ///< distinct model inputs actually run
  int64_t tokens = 0;     ///< tokens through the model, padding included
};

/// Scores `requests` with `model`.
///
/// The model input of a request is (context + continuation)[-(L+1):][:-1] for L =
/// max_position_embeddings, and the continuation is scored at the input's last
/// len(continuation) positions. Every continuation must have 1..L tokens (callers exclude
/// longer ones) and every context at least one token.
///
/// Requests whose inputs are equal, or where one input is a prefix of another, share one
/// sequence: with causal attention the logits of a prefix do not depend on what follows it.
/// (lm-eval shares the same way for one-token continuations of one context.) Sequences run
/// longest first and are right-padded in batches. Padding only follows the scored positions,
/// so it cannot change a score. Log-probabilities are computed in float32 (float64 for a float64
/// model) whatever the compute dtype.
std::vector<LoglikelihoodResult> score_requests(const model::CausalLM& model,
                                                const std::vector<EncodedRequest>& requests,
                                                const ScorerOptions& options, ScoringStats* stats = nullptr);

}  // namespace dartquant::tasks
