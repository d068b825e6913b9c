// Social IQa (dev = lm-eval's social_iqa validation split).
#include "dartquant/core/error.h"
#include "dartquant/tasks/loaders.h"
#include "tasks/loader_support.h"

namespace dartquant::tasks {

Task load_social_iqa(const LoadOptions& options) {
  auto rows_file = detail::task_file(options, "social_iqa", "dev.jsonl");
  auto labels_file = detail::task_file(options, "social_iqa", "dev-labels.lst");
  auto rows = read_jsonl(rows_file);

  Task task;
  task.name = "social_iqa";
  task.files.push_back(rows_file);
  // Hugging Face rows carry "label"; the released rows keep labels in a separate file.
  bool inline_labels = rows.front().has("label");
  std::vector<LabelLine> labels;
  if (!inline_labels) {
    labels = read_labels(labels_file, rows.size(), rows_file);
    task.files.push_back(labels_file);
  }

  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    detail::set_format(task, row.has("label") ? "huggingface" : "released", row);

    // lm-eval: target = int(label) - 1 for labels "1".."3".
    int64_t gold = inline_labels ? detail::integer_label(row, row.at("label"), "label", 1, 3) - 1
                                 : parse_label(labels[i].text, 1, 3, labels_file, labels[i].line) - 1;
    std::string context = "Q: " + row.string_at("context") + " " + row.string_at("question") + "\nA:";
    std::vector<std::string> choices = {row.string_at("answerA"), row.string_at("answerB"), row.string_at("answerC")};
    task.documents.push_back(
        detail::shared_context_document(static_cast<int64_t>(i), detail::row_id(row, "id"), context, choices, gold));
  }
  detail::keep_first(task.documents, options.limit);
  return task;
}

}  // namespace dartquant::tasks
