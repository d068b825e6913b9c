// Per-document decisions and per-task metrics as lm-eval 0.4.3 computes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dartquant/tasks/scorer.h"
#include "dartquant/tasks/task.h"

namespace dartquant::tasks {

/// The decisions for one document.
struct DocumentOutcome {
  int64_t prediction = 0;       ///< argmax of the log-likelihoods (first one on ties)
  int64_t prediction_norm = 0;  ///< argmax of log-likelihood / code points of the choice
  double acc = 0;               ///< 1 when correct
  double acc_norm = 0;
};

/// Decides a document from its requests' results (one per request, in order). Multiple
/// choice: acc compares the argmax with the gold index. Greedy match: acc = is_greedy.
DocumentOutcome decide(const Document& document, ScoringKind kind, const std::vector<LoglikelihoodResult>& results);

/// numpy.argmax: the first maximum, where a NaN counts as the maximum.
int64_t argmax(const std::vector<double>& values);

/// Mean and standard error of the mean with the sample standard deviation, as lm-eval's
/// mean_stderr: stddev(ddof=1) / sqrt(n). The error is NaN for fewer than two values.
struct MeanWithError {
  double mean = 0;
  double standard_error = 0;
};
MeanWithError mean_with_stderr(const std::vector<double>& values);

/// Metrics of one task (or group) over its scored documents.
struct TaskMetrics {
  int64_t samples = 0;
  double acc = 0;
  double acc_stderr = 0;
  double acc_norm = 0;
  double acc_norm_stderr = 0;
  std::optional<double> perplexity;  ///< greedy-match tasks: exp(-mean log-likelihood)
};

/// Metrics from per-document outcomes. `loglikelihoods` (one per document) is only used
/// for greedy-match tasks' perplexity.
TaskMetrics task_metrics(const std::vector<DocumentOutcome>& outcomes, ScoringKind kind,
                         const std::vector<double>& loglikelihoods);

/// A group's metrics from its members' (lm-eval 0.4.3): each mean weighted by the members'
/// sample counts, and the pooled standard error
/// sqrt(Σ (n_i − 1)·n_i·se_i² / (N − k) / N) over k members with N samples in all.
TaskMetrics group_metrics(const std::vector<TaskMetrics>& members);

}  // namespace dartquant::tasks
