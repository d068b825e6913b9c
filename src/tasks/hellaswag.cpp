// HellaSwag (validation split) with lm-eval's query construction and preprocess.
#include "dartquant/core/error.h"
#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/text.h"
#include "tasks/loader_support.h"

namespace dartquant::tasks {

Task load_hellaswag(const LoadOptions& options) {
  auto rows_file = detail::task_file(options, "hellaswag", "validation.jsonl");
  auto rows = read_jsonl(rows_file);

  Task task;
  task.name = "hellaswag";
  task.files.push_back(rows_file);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];

    // lm-eval's process_docs: query = preprocess(activity_label + ": " + ctx_a + " " +
    // ctx_b.capitalize()). Files that keep only the joined ctx (ctx_b still lower-case) are
    // used as stored, since the boundary between ctx_a and ctx_b is lost.
    std::string context;
    if (row.has("ctx_a") && row.has("ctx_b")) {
      detail::set_format(task, "huggingface", row);
      context = row.string_at("ctx_a") + " " + capitalize_ascii(row.string_at("ctx_b"));
    } else {
      detail::set_format(task, "released", row);
      context = row.string_at("ctx");
    }
    std::string query = hellaswag_preprocess(row.string_at("activity_label") + ": " + context);

    std::vector<std::string> endings = detail::string_list(row, row.at("endings"), "\"endings\"");
    for (auto& ending : endings) {
      ending = hellaswag_preprocess(ending);
    }
    int64_t gold = detail::integer_label(row, row.at("label"), "label", 0, static_cast<int64_t>(endings.size()) - 1);
    task.documents.push_back(
        detail::shared_context_document(static_cast<int64_t>(i), detail::row_id(row, "ind"), query, endings, gold));
  }
  detail::keep_first(task.documents, options.limit);
  return task;
}

}  // namespace dartquant::tasks
