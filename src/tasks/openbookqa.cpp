// OpenBookQA (main configuration, test split).
#include "dartquant/core/error.h"
#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/text.h"
#include "tasks/loader_support.h"

namespace dartquant::tasks {

Task load_openbookqa(const LoadOptions& options) {
  auto rows_file = detail::task_file(options, "openbookqa", "test.jsonl");
  auto rows = read_jsonl(rows_file);

  Task task;
  task.name = "openbookqa";
  task.files.push_back(rows_file);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];

    // Released rows nest the stem and choices under "question"; Hugging Face rows have
    // "question_stem" and a top-level "choices".
    std::string stem;
    detail::LabeledChoices choices;
    if (row.has("question_stem")) {
      detail::set_format(task, "huggingface", row);
      stem = row.string_at("question_stem");
      choices = detail::labeled_choices(row, row.at("choices"));
    } else {
      detail::set_format(task, "released", row);
      const auto& question = row.at("question");
      if (!question.is_object() || !question.contains("stem") || !question.at("stem").is_string() ||
          !question.contains("choices")) {
        row.fail("\"question\" must be an object with a string \"stem\" and \"choices\"");
      }
      stem = question.at("stem").get<std::string>();
      choices = detail::labeled_choices(row, question.at("choices"));
    }

    // lm-eval: target = choices.label.index(answerKey.lstrip()); the prompt is the stem alone.
    int64_t gold = label_index(choices.labels, python_lstrip(row.string_at("answerKey")), row);
    task.documents.push_back(detail::shared_context_document(static_cast<int64_t>(i), detail::row_id(row, "id"), stem,
                                                             choices.texts, gold));
  }
  detail::keep_first(task.documents, options.limit);
  return task;
}

}  // namespace dartquant::tasks
