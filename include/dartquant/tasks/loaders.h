// Loaders for the nine zero-shot tasks. Each reads `<root>/tasks/<task>/` in the released
// format of the dataset or as Hugging Face dataset rows exported to JSON Lines (detected per
// file from the keys of its rows) and builds lm-eval 0.4.3's prompts.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "dartquant/tasks/task.h"

namespace dartquant::tasks {

/// lm-eval releases differ in how the MMLU description ("The following are multiple choice
/// questions (with answers) about {subject}.\n\n") reaches the prompt.
enum class MmluPromptVersion {
  kLmEval043,  ///< 0.4.3's template engine drops the description's final newline: one "\n" remains
  kLmEval044,  ///< 0.4.4 and later keep both newlines
};

struct LoadOptions {
  std::filesystem::path root;    ///< the data folder: tasks/<task>/ lies under it
  std::optional<int64_t> limit;  ///< keep the first N items (of each subject for MMLU)
  int64_t num_fewshot = 0;       ///< MMLU only: the first N rows of the subject's dev split
  MmluPromptVersion mmlu_prompt = MmluPromptVersion::kLmEval043;
};

/// winogrande: dev.jsonl (+ dev-labels.lst, checked against "answer" when present). Partial
/// scoring: one context per option, sentence[:"_"] + option; the shared continuation is
/// " " + the stripped text after "_".
Task load_winogrande(const LoadOptions& options);

/// social_iqa: dev.jsonl + dev-labels.lst ("1".."3"), or rows with a "label" key.
/// Prompt "Q: {context} {question}\nA:", choices answerA..C.
Task load_social_iqa(const LoadOptions& options);

/// piqa: valid.jsonl + valid-labels.lst (0/1), or rows with a "label" key.
/// Prompt "Question: {goal}\nAnswer:", choices sol1, sol2.
Task load_piqa(const LoadOptions& options);

/// openbookqa: test.jsonl, released ({"question": {"stem", "choices"}}) or Hugging Face
/// ({"question_stem", "choices": {"text", "label"}}) rows. Prompt: the stem alone.
Task load_openbookqa(const LoadOptions& options);

/// lambada_openai: lambada_test.jsonl rows {"text"}. Context: the text before its last
/// space; continuation: " " + the last word. Scored by greedy match.
Task load_lambada_openai(const LoadOptions& options);

/// hellaswag: validation.jsonl. With ctx_a/ctx_b (Hugging Face rows) the query is lm-eval's
/// activity_label + ": " + ctx_a + " " + capitalized ctx_b; with only ctx it is
/// activity_label + ": " + ctx. Query and endings pass through lm-eval's preprocess.
Task load_hellaswag(const LoadOptions& options);

/// arc_easy / arc_challenge: test.jsonl, released ({"question": {"stem", "choices"}}) or
/// Hugging Face ({"question", "choices": {"text", "label"}}) rows.
/// Prompt "Question: {stem}\nAnswer:".
Task load_arc_easy(const LoadOptions& options);
Task load_arc_challenge(const LoadOptions& options);

/// mmlu: one task per subject ("mmlu_<subject>"), sorted by subject, from test/<subject>_test.csv
/// (headerless: question, A, B, C, D, answer letter) or test/<subject>_test.jsonl (Hugging Face
/// rows {"question", "choices", "answer"}); few-shot examples from dev/ in the same forms.
std::vector<Task> load_mmlu(const LoadOptions& options);

}  // namespace dartquant::tasks
