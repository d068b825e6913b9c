#include "dartquant/eval/perplexity.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/progress.h"

namespace dartquant::eval {
namespace {

/// Tokens per forward pass when --batch-size is not given: large enough for
/// efficient matrix products, small enough to bound the logits buffer.
constexpr int64_t kTokensPerBatch = 4096;

/// Mean next-token cross-entropy per window: logits [B, T, V], ids [B, T] -> [B] (float64).
at::Tensor window_losses(const at::Tensor& logits, const at::Tensor& ids) {
  int64_t length = logits.size(1);
  auto predictions = logits.narrow(1, 0, length - 1);
  auto dtype = logits.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  auto log_probs = predictions.to(dtype).log_softmax(-1);
  auto targets = ids.narrow(1, 1, length - 1).to(logits.device()).unsqueeze(-1);
  auto nll = -log_probs.gather(-1, targets).squeeze(-1);
  return nll.to(at::kDouble).mean(1).cpu();
}

/// Returns the final hidden states of `ids` [windows, seqlen], in batches of
/// `batch` windows, for a model whose layers are not all in memory. Every window
/// passes layer i before layer i + 1 is read, so the checkpoint is read once.
/// Memory then contains one layer and the hidden states of all windows.
std::vector<at::Tensor> layer_major_hidden(model::CausalLM& model, const at::Tensor& ids, int64_t batch,
                                           const model::RouterObserver& router_observer, bool show_progress) {
  std::vector<at::Tensor> hidden;
  for (int64_t start = 0; start < ids.size(0); start += batch) {
    hidden.push_back(model.embed(ids.narrow(0, start, std::min(batch, ids.size(0) - start))));
  }
  auto context = model.context(router_observer);
  int64_t layers = static_cast<int64_t>(model.layers().size());
  ProgressBar progress("perplexity", layers, "layer");
  for (auto& layer : model.layers()) {
    // A layer already in memory (e.g. quantized in this process) is used as it is.
    bool resident = model.layer_loaded(layer.index());
    if (!resident) {
      model.load_layer(layer.index());
    }
    for (auto& states : hidden) {
      states = layer.forward(states, context);
    }
    if (!resident) {
      model.release_layer(layer.index());
    }
    if (show_progress) {
      progress.advance(1, 1);
    }
  }
  if (show_progress) {
    progress.finish();
  }
  return hidden;
}

}  // namespace

PerplexityResult evaluate_perplexity(model::CausalLM& model, const std::vector<int64_t>& stream,
                                     const PerplexityOptions& options, const model::RouterObserver& router_observer) {
  const int64_t seqlen = options.seqlen;
  DQ_CHECK(seqlen >= 2, "--seqlen must be at least 2, got ", seqlen);
  DQ_CHECK(seqlen <= model.config().max_position_embeddings, "--seqlen ", seqlen,
           " exceeds the model's max_position_embeddings (", model.config().max_position_embeddings, ")");
  int64_t available = static_cast<int64_t>(stream.size()) / seqlen;
  DQ_CHECK(available > 0, "the text has ", stream.size(), " tokens, fewer than one window of ", seqlen,
           "; use a smaller --seqlen or a longer text");
  int64_t windows = options.limit ? std::min(available, *options.limit) : available;
  DQ_CHECK(windows > 0, "--limit must be positive");
  int64_t batch = options.batch_size > 0 ? options.batch_size : std::max<int64_t>(1, kTokensPerBatch / seqlen);

  auto all_ids = at::from_blob(const_cast<int64_t*>(stream.data()), {windows * seqlen}, at::kLong)
                     .view({windows, seqlen});

  PerplexityResult result;
  result.windows = windows;
  result.stream_tokens = static_cast<int64_t>(stream.size());
  result.predicted_tokens = windows * (seqlen - 1);
  result.window_nll.reserve(windows);

  ProgressBar progress("perplexity", windows, "tok");
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> streamed;
  bool all_resident = true;
  for (int64_t i = 0; i < static_cast<int64_t>(model.layers().size()); ++i) {
    all_resident = all_resident && model.layer_loaded(i);
  }
  if (!all_resident) {
    streamed = layer_major_hidden(model, all_ids, batch, router_observer, options.show_progress);
  }
  for (int64_t start = 0; start < windows; start += batch) {
    int64_t count = std::min(batch, windows - start);
    auto ids = all_ids.narrow(0, start, count);
    auto logits = streamed.empty() ? model.forward(ids, router_observer)
                                   : model.head(streamed[static_cast<size_t>(start / batch)]);
    auto losses = window_losses(logits, ids);
    auto values = losses.accessor<double, 1>();
    for (int64_t i = 0; i < count; ++i) {
      DQ_CHECK(std::isfinite(values[i]), "window ", start + i, " has a non-finite loss (", values[i],
               "); the model produced NaN or Inf logits");
      result.window_nll.push_back(values[i]);
    }
    if (options.show_progress) {
      progress.advance(count, count * seqlen);
    }
  }
  if (options.show_progress) {
    progress.finish();
  }

  double sum = 0;
  for (double value : result.window_nll) {
    sum += value;
  }
  result.mean_nll = sum / static_cast<double>(windows);
  double squares = 0;
  for (double value : result.window_nll) {
    squares += (value - result.mean_nll) * (value - result.mean_nll);
  }
  result.nll_stderr = windows > 1 ? std::sqrt(squares / static_cast<double>(windows - 1) / static_cast<double>(windows))
                                  : 0.0;
  result.perplexity = std::exp(result.mean_nll);
  result.perplexity_stderr = result.perplexity * result.nll_stderr;
  result.seconds = progress.elapsed_seconds();
  result.tokens_per_second = static_cast<double>(windows * seqlen) / std::max(result.seconds, 1e-9);
  return result;
}

}  // namespace dartquant::eval
