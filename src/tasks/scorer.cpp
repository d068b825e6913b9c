#include "dartquant/tasks/scorer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"

namespace dartquant::tasks {
namespace {

/// Maximum tokens per forward pass when the batch size is automatic.
constexpr int64_t kMaxTokensPerBatch = 8192;
/// Bound on batch tokens × vocabulary, so the float32 logits buffer stays near 512 MiB.
constexpr int64_t kLogitsElementsPerBatch = int64_t{1} << 27;

/// A request's model input: a window of its context + continuation tokens.
struct InputSpan {
  int64_t start = 0;   ///< first token of context + continuation that is kept
  int64_t length = 0;  ///< input tokens: the kept tokens minus the last one
};

/// Token `i` of context + continuation without concatenating them.
int64_t token_at(const EncodedRequest& request, int64_t i) {
  auto context_length = static_cast<int64_t>(request.context.size());
  return i < context_length ? request.context[i] : request.continuation[i - context_length];
}

/// lm-eval's (context + continuation)[-(L+1):][:-1].
InputSpan input_span(const EncodedRequest& request, int64_t max_length) {
  auto total = static_cast<int64_t>(request.context.size() + request.continuation.size());
  int64_t start = std::max<int64_t>(0, total - (max_length + 1));
  return {start, total - start - 1};
}

/// FNV-1a over 64-bit token ids, extended one token at a time so that the hash of every
/// prefix of a sequence comes out along the way.
constexpr uint64_t kHashSeed = 1469598103934665603ULL;
uint64_t hash_step(uint64_t hash, int64_t token) {
  auto value = static_cast<uint64_t>(token);
  for (int byte = 0; byte < 8; ++byte) {
    hash ^= (value >> (8 * byte)) & 0xFF;
    hash *= 1099511628211ULL;
  }
  return hash;
}

/// A distinct model input and the requests scored from it.
struct Sequence {
  size_t owner = 0;              ///< the request whose input this is (the longest of the group)
  std::vector<size_t> requests;  ///< requests whose input equals a prefix of the owner's
};

/// Groups requests whose input is a prefix of (or equal to) a longer request's input.
/// Sequences come out longest first.
std::vector<Sequence> share_sequences(const std::vector<EncodedRequest>& requests,
                                      const std::vector<InputSpan>& spans) {
  const size_t count = requests.size();
  std::unordered_multimap<uint64_t, size_t> by_hash;
  by_hash.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    uint64_t hash = kHashSeed;
    for (int64_t k = 0; k < spans[i].length; ++k) {
      hash = hash_step(hash, token_at(requests[i], spans[i].start + k));
    }
    by_hash.emplace(hash, i);
  }

  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return spans[a].length > spans[b].length; });

  auto same_prefix = [&](size_t shorter, size_t longer) {
    for (int64_t k = 0; k < spans[shorter].length; ++k) {
      if (token_at(requests[shorter], spans[shorter].start + k) != token_at(requests[longer], spans[longer].start + k)) {
        return false;
      }
    }
    return true;
  };

  std::vector<bool> assigned(count, false);
  std::vector<Sequence> sequences;
  for (size_t owner : order) {
    if (assigned[owner]) {
      continue;
    }
    Sequence sequence{owner, {owner}};
    assigned[owner] = true;

    // Walk the owner's prefixes; any unassigned request whose whole input hashes like
    // this prefix (and matches token for token) is scored from this sequence.
    uint64_t hash = kHashSeed;
    for (int64_t k = 0; k < spans[owner].length; ++k) {
      hash = hash_step(hash, token_at(requests[owner], spans[owner].start + k));
      auto [first, last] = by_hash.equal_range(hash);
      for (auto it = first; it != last; ++it) {
        size_t other = it->second;
        if (!assigned[other] && spans[other].length == k + 1 && same_prefix(other, owner)) {
          assigned[other] = true;
          sequence.requests.push_back(other);
        }
      }
    }
    sequences.push_back(std::move(sequence));
  }
  return sequences;
}

int64_t automatic_batch_size(int64_t sequence_length, int64_t vocab_size) {
  int64_t token_budget = std::clamp<int64_t>(kLogitsElementsPerBatch / std::max<int64_t>(1, vocab_size), 512,
                                             kMaxTokensPerBatch);
  return std::max<int64_t>(1, token_budget / std::max<int64_t>(1, sequence_length));
}

}  // namespace

std::vector<LoglikelihoodResult> score_requests(const model::CausalLM& model,
                                                const std::vector<EncodedRequest>& requests,
                                                const ScorerOptions& options, ScoringStats* stats) {
  const int64_t max_length = model.config().max_position_embeddings;
  DQ_CHECK(options.batch_size >= 0, "batch size must be 0 (automatic) or positive, got ", options.batch_size);

  std::vector<InputSpan> spans;
  spans.reserve(requests.size());
  for (const auto& request : requests) {
    auto continuation_length = static_cast<int64_t>(request.continuation.size());
    DQ_CHECK(!request.context.empty(), "a loglikelihood request needs at least one context token");
    DQ_CHECK(continuation_length >= 1 && continuation_length <= max_length, "a continuation of ",
             continuation_length, " tokens cannot be scored with a maximum length of ", max_length);
    spans.push_back(input_span(request, max_length));
  }
  auto sequences = share_sequences(requests, spans);

  std::vector<LoglikelihoodResult> results(requests.size());
  ScoringStats totals;
  totals.requests = static_cast<int64_t>(requests.size());
  totals.sequences = static_cast<int64_t>(sequences.size());
  const auto device = model.options().device;
  const auto score_dtype = model.options().dtype == at::kDouble ? at::kDouble : at::kFloat;

  at::NoGradGuard no_grad;
  size_t next = 0;
  while (next < sequences.size()) {
    // Sequences are sorted longest first, so the first of a batch sets its padded length.
    const int64_t padded_length = spans[sequences[next].owner].length;
    int64_t batch = options.batch_size > 0 ? options.batch_size
                                            : automatic_batch_size(padded_length, model.config().vocab_size);
    size_t end = std::min(sequences.size(), next + static_cast<size_t>(batch));
    auto rows = static_cast<int64_t>(end - next);

    // Right padding with token 0: it only follows the positions that are scored.
    auto ids = at::zeros({rows, padded_length}, at::kLong);
    auto ids_data = ids.accessor<int64_t, 2>();
    std::vector<int64_t> row_index, position, target;
    std::vector<std::pair<size_t, int64_t>> segments;  // (request, token count) in scoring order
    for (int64_t row = 0; row < rows; ++row) {
      const auto& sequence = sequences[next + static_cast<size_t>(row)];
      const auto& span = spans[sequence.owner];
      for (int64_t k = 0; k < span.length; ++k) {
        ids_data[row][k] = token_at(requests[sequence.owner], span.start + k);
      }
      for (size_t request_index : sequence.requests) {
        const auto& request = requests[request_index];
        const auto& own = spans[request_index];
        auto continuation_length = static_cast<int64_t>(request.continuation.size());
        for (int64_t k = 0; k < continuation_length; ++k) {
          row_index.push_back(row);
          position.push_back(own.length - continuation_length + k);
          target.push_back(request.continuation[static_cast<size_t>(k)]);
        }
        segments.emplace_back(request_index, continuation_length);
      }
    }

    // One gather for the whole batch: log-softmax only at the scored positions.
    auto logits = model.forward(ids.to(device));
    auto rows_tensor = at::tensor(row_index, at::kLong).to(device);
    auto positions_tensor = at::tensor(position, at::kLong).to(device);
    auto targets_tensor = at::tensor(target, at::kLong).to(device);
    auto selected = logits.index({rows_tensor, positions_tensor}).to(score_dtype);
    auto log_probs = selected.log_softmax(-1);
    auto token_scores = log_probs.gather(-1, targets_tensor.unsqueeze(-1)).squeeze(-1).to(at::kDouble).cpu();
    auto token_greedy = log_probs.argmax(-1).eq(targets_tensor).cpu();
    auto scores = token_scores.accessor<double, 1>();
    auto greedy = token_greedy.accessor<bool, 1>();

    int64_t offset = 0;
    for (const auto& [request_index, length] : segments) {
      LoglikelihoodResult result;
      result.is_greedy = true;
      for (int64_t k = 0; k < length; ++k) {
        result.loglikelihood += scores[offset + k];
        result.is_greedy = result.is_greedy && greedy[offset + k];
      }
      DQ_CHECK(!std::isnan(result.loglikelihood), "the model produced NaN log-probabilities (request ", request_index,
               " of this task); check the model's weights and compute dtype");
      results[request_index] = result;
      offset += length;
    }

    totals.tokens += rows * padded_length;
    if (options.on_batch) {
      options.on_batch(static_cast<int64_t>(segments.size()), rows * padded_length);
    }
    next = end;
  }

  if (stats != nullptr) {
    *stats = totals;
  }
  return results;
}

}  // namespace dartquant::tasks
