// AI2 ARC, Easy and Challenge sets (test split).
#include "dartquant/core/error.h"
#include "dartquant/tasks/loaders.h"
#include "tasks/loader_support.h"

namespace dartquant::tasks {
namespace {

Task load_arc(const LoadOptions& options, const std::string& name) {
  auto rows_file = detail::task_file(options, name, "test.jsonl");
  auto rows = read_jsonl(rows_file);

  Task task;
  task.name = name;
  task.files.push_back(rows_file);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];

    // Released rows: "question": {"stem", "choices": [...]}. Hugging Face rows: "question"
    // is the stem and "choices" is {"text": [...], "label": [...]}.
    const auto& question = row.at("question");
    std::string stem;
    detail::LabeledChoices choices;
    if (question.is_string()) {
      detail::set_format(task, "huggingface", row);
      stem = question.get<std::string>();
      choices = detail::labeled_choices(row, row.at("choices"));
    } else {
      detail::set_format(task, "released", row);
      if (!question.is_object() || !question.contains("stem") || !question.at("stem").is_string() ||
          !question.contains("choices")) {
        row.fail("\"question\" must be a string or an object with a string \"stem\" and \"choices\"");
      }
      stem = question.at("stem").get<std::string>();
      choices = detail::labeled_choices(row, question.at("choices"));
    }

    // lm-eval: target = choices.label.index(answerKey), with no whitespace stripping.
    int64_t gold = label_index(choices.labels, row.string_at("answerKey"), row);
    std::string context = "Question: " + stem + "\nAnswer:";
    task.documents.push_back(detail::shared_context_document(static_cast<int64_t>(i), detail::row_id(row, "id"),
                                                             context, choices.texts, gold));
  }
  detail::keep_first(task.documents, options.limit);
  return task;
}

}  // namespace

Task load_arc_easy(const LoadOptions& options) { return load_arc(options, "arc_easy"); }

Task load_arc_challenge(const LoadOptions& options) { return load_arc(options, "arc_challenge"); }

}  // namespace dartquant::tasks
