// LAMBADA, OpenAI's preprocessed test set (lm-eval's lambada_openai).
#include "dartquant/core/error.h"
#include "dartquant/tasks/loaders.h"
#include "tasks/loader_support.h"

namespace dartquant::tasks {

Task load_lambada_openai(const LoadOptions& options) {
  auto rows_file = detail::task_file(options, "lambada_openai", "lambada_test.jsonl");
  auto rows = read_jsonl(rows_file);

  Task task;
  task.name = "lambada_openai";
  task.kind = ScoringKind::kGreedyMatch;
  task.format = "released";  // OpenAI's file and the Hugging Face rows are both {"text"}
  task.files.push_back(rows_file);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    std::string text = row.string_at("text");

    // lm-eval: context = " ".join(text.split(" ")[:-1]), target = " " + text.split(" ")[-1],
    // i.e. the split is at the last single space. Without a space the context is empty.
    size_t space = text.rfind(' ');
    std::string context = space == std::string::npos ? std::string() : text.substr(0, space);
    std::string word = space == std::string::npos ? text : text.substr(space + 1);

    Document document;
    document.index = static_cast<int64_t>(i);
    document.id = detail::row_id(row, "id");
    document.requests.push_back({context, " " + word});
    document.choices.push_back(word);
    task.documents.push_back(std::move(document));
  }
  detail::keep_first(task.documents, options.limit);
  return task;
}

}  // namespace dartquant::tasks
