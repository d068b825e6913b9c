// WinoGrande (winogrande_xl validation = winogrande_1.1 dev) with lm-eval's partial scoring.
#include "dartquant/core/error.h"
#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/text.h"
#include "tasks/loader_support.h"

namespace dartquant::tasks {

Task load_winogrande(const LoadOptions& options) {
  auto rows_file = detail::task_file(options, "winogrande", "dev.jsonl");
  auto labels_file = detail::task_file(options, "winogrande", "dev-labels.lst");
  auto rows = read_jsonl(rows_file);

  Task task;
  task.name = "winogrande";
  task.files.push_back(rows_file);
  std::vector<LabelLine> labels;
  if (std::filesystem::exists(labels_file)) {
    labels = read_labels(labels_file, rows.size(), rows_file);
    task.files.push_back(labels_file);
  }

  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    // The released rows carry qID; Hugging Face rows have the same fields without it.
    detail::set_format(task, row.has("qID") ? "released" : "huggingface", row);

    // lm-eval's doc_to_target/doc_to_text: answer "1"/"2" selects option1/option2.
    int64_t gold = -1;
    if (row.has("answer")) {
      gold = detail::integer_label(row, row.at("answer"), "answer", 1, 2) - 1;
    }
    if (!labels.empty()) {
      int64_t listed = parse_label(labels[i].text, 1, 2, labels_file, labels[i].line) - 1;
      if (gold >= 0 && listed != gold) {
        row.fail(str("\"answer\" is ", gold + 1, " but ", labels_file.string(), ":", labels[i].line, " says ",
                     listed + 1));
      }
      gold = listed;
    }
    if (gold < 0) {
      row.fail(str("no \"answer\" key and no ", labels_file.string()));
    }

    // Partial scoring: each option replaces "_" in its own context; the text after "_"
    // (stripped) is the continuation both options share.
    std::string sentence = row.string_at("sentence");
    size_t blank = sentence.find('_');
    if (blank == std::string::npos) {
      row.fail("\"sentence\" has no \"_\" placeholder");
    }
    std::string continuation = " " + python_strip(sentence.substr(blank + 1));
    std::string prefix = sentence.substr(0, blank);

    Document document;
    document.index = static_cast<int64_t>(i);
    document.id = detail::row_id(row, "qID");
    document.gold = gold;
    for (const char* key : {"option1", "option2"}) {
      std::string context = prefix + row.string_at(key);
      document.requests.push_back({context, continuation});
      document.choices.push_back(context);  // lm-eval normalises by the partial context
    }
    task.documents.push_back(std::move(document));
  }
  detail::keep_first(task.documents, options.limit);
  return task;
}

}  // namespace dartquant::tasks
