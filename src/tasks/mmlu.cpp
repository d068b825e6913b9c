// MMLU (hendrycks test): one task per subject, 0-shot or few-shot from the dev split.
#include <algorithm>
#include <array>

#include "dartquant/core/error.h"
#include "dartquant/tasks/csv_reader.h"
#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/mmlu_subjects.h"
#include "dartquant/tasks/text.h"
#include "tasks/loader_support.h"

namespace dartquant::tasks {
namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 4> kLetters = {"A", "B", "C", "D"};

/// One question of a subject file, in either format.
struct MmluRow {
  std::string id;
  std::string question;
  std::array<std::string, 4> choices;
  int64_t answer = 0;
};

/// Finds the file of `subject` in `split`: <subject>_<split>.csv, else .jsonl.
std::optional<fs::path> subject_file(const fs::path& dir, const std::string& subject, const std::string& split) {
  for (const char* extension : {".csv", ".jsonl"}) {
    fs::path path = dir / (subject + "_" + split + extension);
    if (fs::is_regular_file(path)) {
      return path;
    }
  }
  return std::nullopt;
}

int64_t answer_letter_index(const std::string& letter) {
  for (size_t i = 0; i < kLetters.size(); ++i) {
    if (letter == kLetters[i]) {
      return static_cast<int64_t>(i);
    }
  }
  return -1;
}

/// Headerless CSV of the released data: question, A, B, C, D, answer letter.
std::vector<MmluRow> read_csv_rows(const fs::path& path) {
  auto records = read_csv(path);
  DQ_CHECK(!records.empty(), path.string(), ": data file is empty");
  std::vector<MmluRow> rows;
  for (const auto& record : records) {
    DQ_CHECK(record.fields.size() == 6, path.string(), ":", record.line, ": expected 6 fields (question, A, B, C, D, ",
             "answer), found ", record.fields.size());
    MmluRow row;
    row.id = str(path.filename().string(), ":", record.line);
    row.question = record.fields[0];
    std::copy(record.fields.begin() + 1, record.fields.begin() + 5, row.choices.begin());
    row.answer = answer_letter_index(record.fields[5]);
    DQ_CHECK(row.answer >= 0, path.string(), ":", record.line, ": answer \"", record.fields[5],
             "\" is not one of A, B, C, D");
    rows.push_back(std::move(row));
  }
  return rows;
}

/// Hugging Face cais/mmlu rows: {"question", "choices": [4 strings], "answer": 0..3}.
std::vector<MmluRow> read_jsonl_rows(const fs::path& path) {
  std::vector<MmluRow> rows;
  for (const auto& json_row : read_jsonl(path)) {
    MmluRow row;
    row.id = str(path.filename().string(), ":", json_row.line);
    row.question = json_row.string_at("question");
    auto choices = detail::string_list(json_row, json_row.at("choices"), "\"choices\"");
    if (choices.size() != 4) {
      json_row.fail(str("\"choices\" must have 4 entries, found ", choices.size()));
    }
    std::copy(choices.begin(), choices.end(), row.choices.begin());
    const auto& answer = json_row.at("answer");
    if (answer.is_string() && answer_letter_index(answer.get<std::string>()) >= 0) {
      row.answer = answer_letter_index(answer.get<std::string>());
    } else {
      row.answer = detail::integer_label(json_row, answer, "answer", 0, 3);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<MmluRow> read_rows(const fs::path& path) {
  return path.extension() == ".csv" ? read_csv_rows(path) : read_jsonl_rows(path);
}

/// lm-eval's doc_to_text: "{{question.strip()}}\nA. {{choices[0]}}\n...D. {{choices[3]}}\nAnswer:".
std::string question_text(const MmluRow& row) {
  std::string text = python_strip(row.question);
  for (size_t i = 0; i < kLetters.size(); ++i) {
    text += str("\n", kLetters[i], ". ", row.choices[i]);
  }
  return text + "\nAnswer:";
}

/// The description and few-shot examples that precede every question of a subject.
std::string prompt_prefix(const std::string& subject, const std::vector<MmluRow>& examples,
                          MmluPromptVersion version) {
  std::string readable = subject;
  std::replace(readable.begin(), readable.end(), '_', ' ');
  std::string prefix = "The following are multiple choice questions (with answers) about " + readable + ".\n";
  if (version == MmluPromptVersion::kLmEval044) {
    prefix += "\n";
  }

  // lm-eval's ContextSampler: text + target_delimiter (" ") + answer letter + fewshot_delimiter ("\n\n").
  for (const auto& example : examples) {
    prefix += question_text(example) + " " + kLetters[example.answer] + "\n\n";
  }
  return prefix;
}

std::vector<std::string> list_subjects(const fs::path& test_dir) {
  DQ_CHECK(fs::is_directory(test_dir), test_dir.string(),
           ": MMLU test folder not found; --data-dir (or DARTQUANT_DATA) must contain tasks/mmlu/test/");
  std::vector<std::string> subjects;
  for (const auto& entry : fs::directory_iterator(test_dir)) {
    std::string name = entry.path().filename().string();
    for (const std::string suffix : {"_test.csv", "_test.jsonl"}) {
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        subjects.push_back(name.substr(0, name.size() - suffix.size()));
      }
    }
  }
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
  DQ_CHECK(!subjects.empty(), test_dir.string(), ": no <subject>_test.csv or <subject>_test.jsonl files");
  return subjects;
}

}  // namespace

std::vector<Task> load_mmlu(const LoadOptions& options) {
  fs::path test_dir = options.root / "tasks" / "mmlu" / "test";
  fs::path dev_dir = options.root / "tasks" / "mmlu" / "dev";

  std::vector<Task> tasks;
  for (const auto& subject : list_subjects(test_dir)) {
    DQ_CHECK(mmlu_category(subject).has_value(), test_dir.string(), ": \"", subject,
             "\" is not one of the 57 MMLU subjects; files must be named <subject>_test.csv");
    fs::path test_file = *subject_file(test_dir, subject, "test");

    Task task;
    task.name = "mmlu_" + subject;
    task.format = test_file.extension() == ".csv" ? "released" : "huggingface";
    task.files.push_back(test_file);

    // Few-shot examples are the first n rows of the dev split (lm-eval's first_n sampler).
    std::vector<MmluRow> examples;
    if (options.num_fewshot > 0) {
      auto dev_file = subject_file(dev_dir, subject, "dev");
      DQ_CHECK(dev_file.has_value(), dev_dir.string(), ": no ", subject, "_dev.csv for --num-fewshot ",
               options.num_fewshot);
      examples = read_rows(*dev_file);
      DQ_CHECK(static_cast<int64_t>(examples.size()) >= options.num_fewshot, dev_file->string(), ": has ",
               examples.size(), " rows, fewer than --num-fewshot ", options.num_fewshot);
      examples.resize(static_cast<size_t>(options.num_fewshot));
      task.files.push_back(*dev_file);
    }
    std::string prefix = prompt_prefix(subject, examples, options.mmlu_prompt);

    auto rows = read_rows(test_file);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<std::string> letters(kLetters.begin(), kLetters.end());
      task.documents.push_back(detail::shared_context_document(static_cast<int64_t>(i), rows[i].id,
                                                               prefix + question_text(rows[i]), letters,
                                                               rows[i].answer));
    }
    detail::keep_first(task.documents, options.limit);
    tasks.push_back(std::move(task));
  }
  return tasks;
}

}  // namespace dartquant::tasks
