#include "dartquant/tasks/metrics.h"

#include <cmath>
#include <limits>

#include "dartquant/core/error.h"
#include "dartquant/tasks/text.h"

namespace dartquant::tasks {

int64_t argmax(const std::vector<double>& values) {
  DQ_CHECK(!values.empty(), "argmax of an empty list");
  int64_t best = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      return static_cast<int64_t>(i);
    }
    if (values[i] > values[static_cast<size_t>(best)]) {
      best = static_cast<int64_t>(i);
    }
  }
  return best;
}

DocumentOutcome decide(const Document& document, ScoringKind kind, const std::vector<LoglikelihoodResult>& results) {
  DQ_CHECK(results.size() == document.requests.size(), "document ", document.id, " has ", document.requests.size(),
           " requests but ", results.size(), " results");
  DocumentOutcome outcome;
  if (kind == ScoringKind::kGreedyMatch) {
    outcome.acc = results.front().is_greedy ? 1.0 : 0.0;
    outcome.acc_norm = outcome.acc;
    return outcome;
  }

  // lm-eval: pred = argmax(lls); pred_norm = argmax(lls / [len(choice) for choice in choices]),
  // with the length in Python characters (code points), without the delimiter. An empty
  // choice divides by zero as numpy does (-inf, or NaN for 0/0).
  std::vector<double> scores, normalized;
  for (size_t i = 0; i < results.size(); ++i) {
    scores.push_back(results[i].loglikelihood);
    auto length = static_cast<double>(code_point_count(document.choices[i]));
    normalized.push_back(results[i].loglikelihood / length);
  }
  outcome.prediction = argmax(scores);
  outcome.prediction_norm = argmax(normalized);
  outcome.acc = outcome.prediction == document.gold ? 1.0 : 0.0;
  outcome.acc_norm = outcome.prediction_norm == document.gold ? 1.0 : 0.0;
  return outcome;
}

MeanWithError mean_with_stderr(const std::vector<double>& values) {
  MeanWithError result;
  if (values.empty()) {
    result.mean = std::numeric_limits<double>::quiet_NaN();
    result.standard_error = result.mean;
    return result;
  }
  double sum = 0;
  for (double value : values) {
    sum += value;
  }
  auto n = static_cast<double>(values.size());
  result.mean = sum / n;
  if (values.size() < 2) {
    result.standard_error = std::numeric_limits<double>::quiet_NaN();
    return result;
  }
  double squares = 0;
  for (double value : values) {
    squares += (value - result.mean) * (value - result.mean);
  }
  result.standard_error = std::sqrt(squares / (n - 1)) / std::sqrt(n);
  return result;
}

TaskMetrics task_metrics(const std::vector<DocumentOutcome>& outcomes, ScoringKind kind,
                         const std::vector<double>& loglikelihoods) {
  std::vector<double> acc, acc_norm;
  for (const auto& outcome : outcomes) {
    acc.push_back(outcome.acc);
    acc_norm.push_back(outcome.acc_norm);
  }
  TaskMetrics metrics;
  metrics.samples = static_cast<int64_t>(outcomes.size());
  auto acc_stats = mean_with_stderr(acc);
  auto norm_stats = mean_with_stderr(acc_norm);
  metrics.acc = acc_stats.mean;
  metrics.acc_stderr = acc_stats.standard_error;
  metrics.acc_norm = norm_stats.mean;
  metrics.acc_norm_stderr = norm_stats.standard_error;
  if (kind == ScoringKind::kGreedyMatch) {
    // lm-eval's perplexity aggregation: exp(-mean(loglikelihoods)).
    metrics.perplexity = std::exp(-mean_with_stderr(loglikelihoods).mean);
  }
  return metrics;
}

TaskMetrics group_metrics(const std::vector<TaskMetrics>& members) {
  DQ_CHECK(!members.empty(), "a task group needs at least one member");
  TaskMetrics group;
  double acc_sum = 0, norm_sum = 0, acc_pooled = 0, norm_pooled = 0;
  for (const auto& member : members) {
    auto n = static_cast<double>(member.samples);
    group.samples += member.samples;
    acc_sum += member.acc * n;
    norm_sum += member.acc_norm * n;
    acc_pooled += (n - 1) * n * member.acc_stderr * member.acc_stderr;
    norm_pooled += (n - 1) * n * member.acc_norm_stderr * member.acc_norm_stderr;
  }
  auto total = static_cast<double>(group.samples);
  auto degrees = total - static_cast<double>(members.size());
  group.acc = acc_sum / total;
  group.acc_norm = norm_sum / total;
  group.acc_stderr = std::sqrt(acc_pooled / degrees / total);
  group.acc_norm_stderr = std::sqrt(norm_pooled / degrees / total);
  return group;
}

}  // namespace dartquant::tasks
