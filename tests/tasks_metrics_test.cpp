// Prompt text helpers, per-document decisions and the lm-eval metric formulas.
#include <cmath>

#include <gtest/gtest.h>

#include "dartquant/tasks/metrics.h"
#include "dartquant/tasks/text.h"

namespace dartquant {
namespace {

using tasks::DocumentOutcome;
using tasks::LoglikelihoodResult;
using tasks::ScoringKind;
using tasks::TaskMetrics;

TEST(TaskText, CodePointCount) {
  EXPECT_EQ(tasks::code_point_count(""), 0);
  EXPECT_EQ(tasks::code_point_count("abc"), 3);
  EXPECT_EQ(tasks::code_point_count("é"), 1);       // 2 bytes
  EXPECT_EQ(tasks::code_point_count("日本"), 2);     // 6 bytes
  EXPECT_EQ(tasks::code_point_count("🦙x"), 2);      // 4 + 1 bytes
}

TEST(TaskText, PythonStripRemovesUnicodeSpaces) {
  EXPECT_EQ(tasks::python_strip("  a b \n"), "a b");
  EXPECT_EQ(tasks::python_strip("\xc2\xa0x\xe3\x80\x80"), "x");  // NBSP and ideographic space
  EXPECT_EQ(tasks::python_strip("\x1c\x1fy\x0b"), "y");         // separators count as spaces in Python
  EXPECT_EQ(tasks::python_strip(" \t\n "), "");
  EXPECT_EQ(tasks::python_lstrip("  B "), "B ");
}

TEST(TaskText, CapitalizeAscii) {
  EXPECT_EQ(tasks::capitalize_ascii("he WALKS"), "He walks");
  EXPECT_EQ(tasks::capitalize_ascii(""), "");
  EXPECT_EQ(tasks::capitalize_ascii("1st Place"), "1st place");
}

TEST(TaskText, HellaswagPreprocess) {
  EXPECT_EQ(tasks::hellaswag_preprocess(" Roof [title] Remove shingles. "), "Roof. Remove shingles.");
  EXPECT_EQ(tasks::hellaswag_preprocess("Call [insert name] now"), "Call now");
  EXPECT_EQ(tasks::hellaswag_preprocess("a [b] [c] d"), "a  d");  // "a   d": one "  " becomes " "
  EXPECT_EQ(tasks::hellaswag_preprocess("keep [open\nbracket]"), "keep [open\nbracket]");
  EXPECT_EQ(tasks::hellaswag_preprocess("x    y"), "x  y");  // one left-to-right pass
}

tasks::Document two_choices(std::vector<std::string> choices, int64_t gold) {
  tasks::Document document;
  document.choices = std::move(choices);
  document.gold = gold;
  for (const auto& choice : document.choices) {
    document.requests.push_back({"context", " " + choice});
  }
  return document;
}

TEST(TaskDecision, AccAndAccNorm) {
  // Raw scores prefer choice 0; per character (3 vs 12 code points) choice 1 wins.
  auto document = two_choices({"abc", "abcdefghijkl"}, 1);
  auto outcome = tasks::decide(document, ScoringKind::kMultipleChoice, {{-3.0, false}, {-6.0, false}});
  EXPECT_EQ(outcome.prediction, 0);
  EXPECT_EQ(outcome.prediction_norm, 1);
  EXPECT_EQ(outcome.acc, 0.0);
  EXPECT_EQ(outcome.acc_norm, 1.0);
}

TEST(TaskDecision, AccNormCountsCodePointsNotBytes) {
  // "ééé" has 3 code points in 6 bytes. Per code point: -1.1 vs -1.0, so choice 1; per byte
  // it would be -0.55 vs -1.0 and choice 0.
  auto document = two_choices({"ééé", "abcd"}, 0);
  auto outcome = tasks::decide(document, ScoringKind::kMultipleChoice, {{-3.3, false}, {-4.0, false}});
  EXPECT_EQ(outcome.prediction_norm, 1);
}

TEST(TaskDecision, TiesTakeFirstChoice) {
  auto document = two_choices({"a", "b"}, 1);
  auto outcome = tasks::decide(document, ScoringKind::kMultipleChoice, {{-1.0, false}, {-1.0, false}});
  EXPECT_EQ(outcome.prediction, 0);
}

TEST(TaskDecision, GreedyMatchUsesIsGreedy) {
  tasks::Document document;
  document.requests.push_back({"context", " word"});
  document.choices.push_back("word");
  EXPECT_EQ(tasks::decide(document, ScoringKind::kGreedyMatch, {{-0.5, true}}).acc, 1.0);
  EXPECT_EQ(tasks::decide(document, ScoringKind::kGreedyMatch, {{-0.1, false}}).acc, 0.0);
}

TEST(TaskMetric, ArgmaxLikeNumpy) {
  EXPECT_EQ(tasks::argmax({1.0, 3.0, 3.0}), 1);
  EXPECT_EQ(tasks::argmax({1.0, NAN, 5.0}), 1);
  EXPECT_EQ(tasks::argmax({-INFINITY, -2.0}), 1);
}

TEST(TaskMetric, MeanStderrUsesSampleDeviation) {
  auto stats = tasks::mean_with_stderr({1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(stats.mean, 0.75);
  // sample stddev = sqrt(0.75 / 3) = 0.5; stderr = 0.5 / 2
  EXPECT_DOUBLE_EQ(stats.standard_error, 0.25);
  EXPECT_TRUE(std::isnan(tasks::mean_with_stderr({1}).standard_error));
}

TEST(TaskMetric, TaskMetricsAndPerplexity) {
  std::vector<DocumentOutcome> outcomes(4);
  outcomes[0].acc = 1;
  outcomes[1].acc = 1;
  outcomes[2].acc_norm = 1;
  auto metrics = tasks::task_metrics(outcomes, ScoringKind::kGreedyMatch, {-1.0, -2.0, -3.0, -2.0});
  EXPECT_EQ(metrics.samples, 4);
  EXPECT_DOUBLE_EQ(metrics.acc, 0.5);
  EXPECT_DOUBLE_EQ(metrics.acc_norm, 0.25);
  ASSERT_TRUE(metrics.perplexity.has_value());
  EXPECT_DOUBLE_EQ(*metrics.perplexity, std::exp(2.0));
}

TEST(TaskMetric, GroupWeightsBySizeAndPoolsStderr) {
  TaskMetrics a, b;
  a.samples = 10;
  a.acc = 0.5;
  a.acc_stderr = 0.2;
  b.samples = 30;
  b.acc = 0.1;
  b.acc_stderr = 0.05;
  auto group = tasks::group_metrics({a, b});
  EXPECT_EQ(group.samples, 40);
  EXPECT_DOUBLE_EQ(group.acc, (0.5 * 10 + 0.1 * 30) / 40);
  double pooled = (9 * 10 * 0.04 + 29 * 30 * 0.0025) / (40 - 2);
  EXPECT_DOUBLE_EQ(group.acc_stderr, std::sqrt(pooled / 40));
}

}  // namespace
}  // namespace dartquant
