// Zero-shot tasks as lm-evaluation-harness 0.4.x builds them: documents whose answer
// choices become loglikelihood requests (context, continuation).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dartquant::tasks {

/// How the scores of a document's requests become metrics.
enum class ScoringKind {
  /// One request per choice. acc: the highest log-likelihood is the gold choice. acc_norm:
  /// the same after dividing each log-likelihood by the choice's length in code points.
  kMultipleChoice,
  /// One request. acc: every continuation token is the model's argmax (LAMBADA).
  kGreedyMatch,
};

/// One loglikelihood request: the log-probability of `continuation` after `context`.
struct Request {
  std::string context;
  std::string continuation;  ///< starts with the target delimiter (" ") where the task has one
};

/// One evaluation item.
struct Document {
  int64_t index = 0;               ///< 0-based position among the task's items (lm-eval's doc_id)
  std::string id;                  ///< the dataset's own id, or "<file>:<line>" when it has none
  std::vector<Request> requests;   ///< one per choice, in choice order
  std::vector<std::string> choices;  ///< the strings whose lengths normalise acc_norm, per request
  int64_t gold = 0;                ///< index of the correct choice
};

/// A task's documents, ready to be tokenized and scored.
struct Task {
  std::string name;  ///< lm-eval's task name: "arc_easy", "mmlu_anatomy", ...
  ScoringKind kind = ScoringKind::kMultipleChoice;
  std::vector<Document> documents;
  std::vector<std::filesystem::path> files;  ///< the data files read, for hashing in results
  std::string format;                        ///< "released" or "huggingface" (row schema detected)
};

}  // namespace dartquant::tasks
