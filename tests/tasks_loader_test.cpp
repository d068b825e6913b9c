// Task loaders: the released files in the shared data folder, the same items as Hugging
// Face dataset rows, and malformed inputs.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"
#include "dartquant/tasks/csv_reader.h"
#include "dartquant/tasks/loaders.h"
#include "dartquant/tasks/registry.h"
#include "test_support.h"

namespace dartquant {
namespace {

namespace fs = std::filesystem;
using tasks::LoadOptions;
using tasks::Task;

LoadOptions shared_data(std::optional<int64_t> limit = std::nullopt) {
  LoadOptions options;
  options.root = testing::data_dir();
  options.limit = limit;
  return options;
}

/// A scratch data folder with tasks/<task>/ files written by the test.
class ScratchData {
 public:
  ScratchData() : root_(testing::make_temp_dir("dq-tasks")) {}
  ~ScratchData() { fs::remove_all(root_); }

  void write(const std::string& relative, const std::string& text) const {
    fs::path path = root_ / "tasks" / relative;
    fs::create_directories(path.parent_path());
    testing::write_file(path, text);
  }

  void write_rows(const std::string& relative, const std::vector<nlohmann::json>& rows) const {
    std::string text;
    for (const auto& row : rows) {
      text += row.dump() + "\n";
    }
    write(relative, text);
  }

  LoadOptions options(std::optional<int64_t> limit = std::nullopt) const {
    LoadOptions options;
    options.root = root_;
    options.limit = limit;
    return options;
  }

 private:
  fs::path root_;
};

std::vector<nlohmann::json> released_rows(const std::string& relative, size_t count) {
  std::ifstream in(testing::data_dir() / "tasks" / relative);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (rows.size() < count && std::getline(in, line)) {
    rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

std::vector<std::string> released_labels(const std::string& relative, size_t count) {
  std::ifstream in(testing::data_dir() / "tasks" / relative);
  std::vector<std::string> labels;
  std::string line;
  while (labels.size() < count && std::getline(in, line)) {
    labels.push_back(line);
  }
  return labels;
}

/// Expects two loads of the same items to build identical requests, choices and golds.
void expect_same_documents(const Task& expected, const Task& actual) {
  ASSERT_EQ(expected.documents.size(), actual.documents.size());
  for (size_t i = 0; i < expected.documents.size(); ++i) {
    const auto& a = expected.documents[i];
    const auto& b = actual.documents[i];
    ASSERT_EQ(a.requests.size(), b.requests.size()) << "document " << i;
    for (size_t c = 0; c < a.requests.size(); ++c) {
      EXPECT_EQ(a.requests[c].context, b.requests[c].context) << "document " << i << " choice " << c;
      EXPECT_EQ(a.requests[c].continuation, b.requests[c].continuation) << "document " << i << " choice " << c;
    }
    EXPECT_EQ(a.choices, b.choices) << "document " << i;
    EXPECT_EQ(a.gold, b.gold) << "document " << i;
  }
}

template <typename Load>
std::string error_of(Load load) {
  try {
    load();
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

// --- the released files -----------------------------------------------------------------

TEST(TaskLoader, ReleasedFilesHaveTheirItemCounts) {
  auto options = shared_data();
  EXPECT_EQ(tasks::load_winogrande(options).documents.size(), 1267u);
  EXPECT_EQ(tasks::load_social_iqa(options).documents.size(), 1954u);
  EXPECT_EQ(tasks::load_piqa(options).documents.size(), 1838u);
  EXPECT_EQ(tasks::load_openbookqa(options).documents.size(), 500u);
  EXPECT_EQ(tasks::load_lambada_openai(options).documents.size(), 5153u);
  EXPECT_EQ(tasks::load_hellaswag(options).documents.size(), 10042u);
  EXPECT_EQ(tasks::load_arc_easy(options).documents.size(), 2376u);
  EXPECT_EQ(tasks::load_arc_challenge(options).documents.size(), 1172u);

  auto subjects = tasks::load_mmlu(options);
  ASSERT_EQ(subjects.size(), 57u);
  size_t questions = 0;
  for (const auto& subject : subjects) {
    questions += subject.documents.size();
  }
  EXPECT_EQ(questions, 14042u);
  EXPECT_EQ(subjects.front().name, "mmlu_abstract_algebra");
}

TEST(TaskLoader, WinograndePartialScoring) {
  auto task = tasks::load_winogrande(shared_data(1));
  const auto& document = task.documents.at(0);
  EXPECT_EQ(document.id, "3FCO4VKOZ4BJQ6IFC0VAIBK4KTWE7U-2");
  EXPECT_EQ(document.requests[0].context, "Sarah was a much better surgeon than Maria so Sarah");
  EXPECT_EQ(document.requests[1].context, "Sarah was a much better surgeon than Maria so Maria");
  EXPECT_EQ(document.requests[0].continuation, " always got the easier cases.");
  EXPECT_EQ(document.choices[1], document.requests[1].context);  // acc_norm divides by the partial context
  EXPECT_EQ(document.gold, 1);
  EXPECT_EQ(task.format, "released");
}

TEST(TaskLoader, PromptsOfEachTask) {
  auto options = shared_data(1);
  auto siqa = tasks::load_social_iqa(options).documents.at(0);
  EXPECT_EQ(siqa.requests[0].context,
            "Q: Tracy didn't go home that evening and resisted Riley's attacks. What does Tracy need to do before "
            "this?\nA:");
  EXPECT_EQ(siqa.requests[2].continuation, " Find somewhere to go");
  EXPECT_EQ(siqa.gold, 2);  // label "3"

  auto piqa = tasks::load_piqa(options).documents.at(0);
  EXPECT_EQ(piqa.requests[0].context, "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  EXPECT_EQ(piqa.gold, 0);

  auto arc = tasks::load_arc_challenge(options).documents.at(0);
  EXPECT_EQ(arc.requests[0].context,
            "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the "
            "most likely effect of this increase in rotation?\nAnswer:");
  EXPECT_EQ(arc.requests[2].continuation, " Planetary days will become shorter.");
  EXPECT_EQ(arc.gold, 2);
  EXPECT_EQ(arc.id, "Mercury_7175875");

  auto obqa = tasks::load_openbookqa(options).documents.at(0);
  EXPECT_EQ(obqa.requests[0].context.rfind("A person wants to start saving money", 0), 0u);
  EXPECT_EQ(obqa.requests[1].continuation, " quit eating lunch out");
  EXPECT_EQ(obqa.gold, 1);

  auto hellaswag = tasks::load_hellaswag(options).documents.at(0);
  EXPECT_EQ(hellaswag.requests[0].context, "Roof shingle removal: A man is sitting on a roof. he");
  EXPECT_EQ(hellaswag.requests[3].continuation, " starts pulling up roofing on a roof.");
  EXPECT_EQ(hellaswag.gold, 3);
}

TEST(TaskLoader, LambadaSplitsAtLastSpace) {
  auto task = tasks::load_lambada_openai(shared_data(1));
  const auto& request = task.documents.at(0).requests.at(0);
  EXPECT_EQ(request.continuation, " signs");
  const std::string tail = "I don't care about";
  ASSERT_GE(request.context.size(), tail.size());
  EXPECT_EQ(request.context.substr(request.context.size() - tail.size()), tail);
  EXPECT_EQ(task.kind, tasks::ScoringKind::kGreedyMatch);
}

TEST(TaskLoader, LimitKeepsFirstItems) {
  auto task = tasks::load_arc_easy(shared_data(3));
  ASSERT_EQ(task.documents.size(), 3u);
  EXPECT_EQ(task.documents[2].index, 2);
  EXPECT_EQ(task.documents[2].id, "arc_easy-test-2");

  for (const auto& subject : tasks::load_mmlu(shared_data(2))) {
    EXPECT_EQ(subject.documents.size(), 2u) << subject.name;
  }
}

TEST(TaskLoader, MmluZeroShotPrompt) {
  auto subjects = tasks::load_mmlu(shared_data(1));
  const auto& document = subjects.front().documents.at(0);
  EXPECT_EQ(document.requests[0].context,
            "The following are multiple choice questions (with answers) about abstract algebra.\n"
            "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n"
            "A. 0\nB. 4\nC. 2\nD. 6\nAnswer:");
  EXPECT_EQ(document.requests[3].continuation, " D");
  EXPECT_EQ(document.choices, (std::vector<std::string>{"A", "B", "C", "D"}));
  EXPECT_EQ(document.gold, 1);
}

TEST(TaskLoader, MmluFewShotAndPromptVersion) {
  auto options = shared_data(1);
  options.num_fewshot = 2;
  options.mmlu_prompt = tasks::MmluPromptVersion::kLmEval044;
  auto subjects = tasks::load_mmlu(options);
  const auto& context = subjects.front().documents.at(0).requests[0].context;

  // Description with both newlines, then the first two dev rows with their answers, each
  // followed by "\n\n", then the test question.
  auto dev = tasks::read_csv(testing::data_dir() / "tasks/mmlu/dev/abstract_algebra_dev.csv");
  std::string first = dev[0].fields[0] + "\nA. " + dev[0].fields[1] + "\nB. " + dev[0].fields[2] + "\nC. " +
                      dev[0].fields[3] + "\nD. " + dev[0].fields[4] + "\nAnswer: " + dev[0].fields[5] + "\n\n";
  std::string description = "The following are multiple choice questions (with answers) about abstract algebra.\n\n";
  EXPECT_EQ(context.substr(0, description.size() + first.size()), description + first);
  EXPECT_NE(context.find("\nAnswer: " + dev[1].fields[5] + "\n\nFind the degree"), std::string::npos);
  EXPECT_EQ(subjects.front().files.size(), 2u);  // the dev file is recorded too
}

TEST(TaskLoader, RegistryNames) {
  EXPECT_EQ(tasks::zero_shot_task_name("wg"), "winogrande");
  EXPECT_EQ(tasks::zero_shot_task_name("arc-c"), "arc_challenge");
  EXPECT_EQ(tasks::zero_shot_task_name("hellaswag"), "hellaswag");
  EXPECT_FALSE(tasks::zero_shot_task_name("wiki").has_value());
  auto paper = tasks::expand_task_names({"paper"});
  ASSERT_EQ(paper.size(), 10u);
  EXPECT_EQ(paper.front(), "wiki");
  EXPECT_EQ(paper.back(), "mmlu");
  EXPECT_EQ(tasks::expand_task_names({"wiki", "lamb", "lambada_openai"}),
            (std::vector<std::string>{"wiki", "lambada_openai"}));
}

// --- Hugging Face dataset rows ------------------------------------------------------------

TEST(TaskLoaderHuggingFace, PiqaAndSocialIqaWithInlineLabels) {
  ScratchData data;
  auto piqa_rows = released_rows("piqa/valid.jsonl", 5);
  auto piqa_labels = released_labels("piqa/valid-labels.lst", 5);
  for (size_t i = 0; i < piqa_rows.size(); ++i) {
    piqa_rows[i]["label"] = std::stoi(piqa_labels[i]);
  }
  data.write_rows("piqa/valid.jsonl", piqa_rows);
  auto piqa = tasks::load_piqa(data.options());
  EXPECT_EQ(piqa.format, "huggingface");
  expect_same_documents(tasks::load_piqa(shared_data(5)), piqa);

  auto siqa_rows = released_rows("social_iqa/dev.jsonl", 5);
  auto siqa_labels = released_labels("social_iqa/dev-labels.lst", 5);
  for (size_t i = 0; i < siqa_rows.size(); ++i) {
    siqa_rows[i]["label"] = siqa_labels[i];  // lighteval/siqa keeps the label as a string
  }
  data.write_rows("social_iqa/dev.jsonl", siqa_rows);
  expect_same_documents(tasks::load_social_iqa(shared_data(5)), tasks::load_social_iqa(data.options()));
}

TEST(TaskLoaderHuggingFace, WinograndeWithoutIdsOrLabelFile) {
  ScratchData data;
  auto rows = released_rows("winogrande/dev.jsonl", 5);
  for (auto& row : rows) {
    row.erase("qID");
  }
  data.write_rows("winogrande/dev.jsonl", rows);
  auto task = tasks::load_winogrande(data.options());
  EXPECT_EQ(task.format, "huggingface");
  EXPECT_EQ(task.documents[0].id, "dev.jsonl:1");
  expect_same_documents(tasks::load_winogrande(shared_data(5)), task);
}

TEST(TaskLoaderHuggingFace, ArcAndOpenBookQaFlatChoices) {
  ScratchData data;
  auto flatten = [](const nlohmann::json& question) {
    nlohmann::json choices = {{"text", nlohmann::json::array()}, {"label", nlohmann::json::array()}};
    for (const auto& choice : question["choices"]) {
      choices["text"].push_back(choice["text"]);
      choices["label"].push_back(choice["label"]);
    }
    return choices;
  };

  std::vector<nlohmann::json> arc;
  for (const auto& row : released_rows("arc_challenge/test.jsonl", 5)) {
    arc.push_back({{"id", row["id"]}, {"question", row["question"]["stem"]}, {"choices", flatten(row["question"])},
                   {"answerKey", row["answerKey"]}});
  }
  data.write_rows("arc_challenge/test.jsonl", arc);
  auto arc_task = tasks::load_arc_challenge(data.options());
  EXPECT_EQ(arc_task.format, "huggingface");
  expect_same_documents(tasks::load_arc_challenge(shared_data(5)), arc_task);

  std::vector<nlohmann::json> obqa;
  for (const auto& row : released_rows("openbookqa/test.jsonl", 5)) {
    obqa.push_back({{"id", row["id"]}, {"question_stem", row["question"]["stem"]},
                    {"choices", flatten(row["question"])}, {"answerKey", row["answerKey"]}});
  }
  data.write_rows("openbookqa/test.jsonl", obqa);
  expect_same_documents(tasks::load_openbookqa(shared_data(5)), tasks::load_openbookqa(data.options()));
}

TEST(TaskLoaderHuggingFace, HellaswagCapitalizesCtxB) {
  ScratchData data;
  data.write_rows("hellaswag/validation.jsonl",
                  {{{"ind", 24},
                    {"activity_label", "Roof shingle removal"},
                    {"ctx_a", "A man is sitting on a roof."},
                    {"ctx_b", "he"},
                    {"ctx", "A man is sitting on a roof. he"},
                    {"endings", {"is using [title] wrap.", "rips [header] tiles.", "a", "b"}},
                    {"label", "3"}}});
  auto task = tasks::load_hellaswag(data.options());
  const auto& document = task.documents.at(0);
  EXPECT_EQ(document.requests[0].context, "Roof shingle removal: A man is sitting on a roof. He");
  EXPECT_EQ(document.requests[0].continuation, " is using. wrap.");
  EXPECT_EQ(document.requests[1].continuation, " rips tiles.");
  EXPECT_EQ(document.gold, 3);
  EXPECT_EQ(document.id, "24");
}

TEST(TaskLoaderHuggingFace, MmluJsonRows) {
  ScratchData data;
  auto records = tasks::read_csv(testing::data_dir() / "tasks/mmlu/test/anatomy_test.csv");
  std::string rows;
  for (size_t i = 0; i < 4; ++i) {
    const auto& f = records[i].fields;
    nlohmann::json row = {{"question", f[0]},
                          {"subject", "anatomy"},
                          {"choices", {f[1], f[2], f[3], f[4]}},
                          {"answer", std::string("ABCD").find(f[5])}};
    rows += row.dump() + "\n";
  }
  data.write("mmlu/test/anatomy_test.jsonl", rows);
  auto subjects = tasks::load_mmlu(data.options());
  ASSERT_EQ(subjects.size(), 1u);
  EXPECT_EQ(subjects[0].format, "huggingface");

  Task released;
  for (auto& subject : tasks::load_mmlu(shared_data(4))) {
    if (subject.name == "mmlu_anatomy") {
      released = std::move(subject);
    }
  }
  expect_same_documents(released, subjects[0]);
}

// --- malformed data -----------------------------------------------------------------------

TEST(TaskLoaderErrors, MissingFileNamesPath) {
  ScratchData data;
  auto message = error_of([&] { tasks::load_piqa(data.options()); });
  EXPECT_NE(message.find("tasks/piqa/valid.jsonl"), std::string::npos) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, EmptyFile) {
  ScratchData data;
  data.write("openbookqa/test.jsonl", "\n\n");
  auto message = error_of([&] { tasks::load_openbookqa(data.options()); });
  EXPECT_NE(message.find("openbookqa/test.jsonl: data file is empty"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, InvalidJsonNamesLine) {
  ScratchData data;
  data.write("piqa/valid.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n{\"goal\": \"g\",\n");
  data.write("piqa/valid-labels.lst", "0\n1\n");
  auto message = error_of([&] { tasks::load_piqa(data.options()); });
  EXPECT_NE(message.find("valid.jsonl:2: invalid JSON"), std::string::npos) << message;
}

// nlohmann::json raises out_of_range, not parse_error, for a number beyond the range of a
// double; the same escape was found by fuzz/fuzz_config.cpp in config.json.
TEST(TaskLoaderErrors, NumberOverflowNamesLine) {
  ScratchData data;
  data.write("piqa/valid.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n{\"goal\": 1E999999}\n");
  data.write("piqa/valid-labels.lst", "0\n1\n");
  auto message = error_of([&] { tasks::load_piqa(data.options()); });
  EXPECT_NE(message.find("valid.jsonl:2: invalid JSON"), std::string::npos) << message;
  EXPECT_NE(message.find("number overflow"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, RowThatIsNotAnObject) {
  ScratchData data;
  data.write("lambada_openai/lambada_test.jsonl", "{\"text\": \"a b\"}\n[1, 2]\n");
  auto message = error_of([&] { tasks::load_lambada_openai(data.options()); });
  EXPECT_NE(message.find("lambada_test.jsonl:2: expected a JSON object"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, LabelOutOfRangeNamesLine) {
  ScratchData data;
  data.write("piqa/valid.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n"
                                "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n");
  data.write("piqa/valid-labels.lst", "0\n2\n");
  auto message = error_of([&] { tasks::load_piqa(data.options()); });
  EXPECT_NE(message.find("valid-labels.lst:2: label 2 is out of range [0, 1]"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, LabelCountMismatch) {
  ScratchData data;
  data.write("social_iqa/dev.jsonl",
             "{\"context\": \"c\", \"question\": \"q\", \"answerA\": \"a\", \"answerB\": \"b\", \"answerC\": \"c\"}\n");
  data.write("social_iqa/dev-labels.lst", "1\n2\n");
  auto message = error_of([&] { tasks::load_social_iqa(data.options()); });
  EXPECT_NE(message.find("has 2 labels but"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, InlineLabelOutOfRange) {
  ScratchData data;
  data.write("social_iqa/dev.jsonl", "{\"context\": \"c\", \"question\": \"q\", \"answerA\": \"a\", \"answerB\": \"b\", "
                                     "\"answerC\": \"c\", \"label\": \"4\"}\n");
  auto message = error_of([&] { tasks::load_social_iqa(data.options()); });
  EXPECT_NE(message.find("dev.jsonl:1: label 4 is out of range [1, 3]"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, WinograndeWithoutBlank) {
  ScratchData data;
  data.write("winogrande/dev.jsonl",
             "{\"sentence\": \"No blank here.\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"1\"}\n");
  auto message = error_of([&] { tasks::load_winogrande(data.options()); });
  EXPECT_NE(message.find("dev.jsonl:1: \"sentence\" has no \"_\""), std::string::npos) << message;
}

TEST(TaskLoaderErrors, WinograndeLabelFileDisagrees) {
  ScratchData data;
  data.write("winogrande/dev.jsonl",
             "{\"sentence\": \"A _ b.\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"1\"}\n");
  data.write("winogrande/dev-labels.lst", "2\n");
  auto message = error_of([&] { tasks::load_winogrande(data.options()); });
  EXPECT_NE(message.find("\"answer\" is 1 but"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, AnswerKeyNotAChoiceLabel) {
  ScratchData data;
  data.write("arc_easy/test.jsonl", "{\"id\": \"x\", \"question\": {\"stem\": \"s\", \"choices\": [{\"text\": \"t\", "
                                    "\"label\": \"A\"}, {\"text\": \"u\", \"label\": \"B\"}]}, \"answerKey\": \"E\"}\n");
  auto message = error_of([&] { tasks::load_arc_easy(data.options()); });
  EXPECT_NE(message.find("test.jsonl:1: answer \"E\" is not one of the choice labels (A, B)"), std::string::npos)
      << message;
}

TEST(TaskLoaderErrors, MixedSchemasInOneFile) {
  ScratchData data;
  data.write("arc_easy/test.jsonl",
             "{\"id\": \"x\", \"question\": \"s\", \"choices\": {\"text\": [\"t\"], \"label\": [\"A\"]}, "
             "\"answerKey\": \"A\"}\n"
             "{\"id\": \"y\", \"question\": {\"stem\": \"s\", \"choices\": [{\"text\": \"t\", \"label\": \"A\"}]}, "
             "\"answerKey\": \"A\"}\n");
  auto message = error_of([&] { tasks::load_arc_easy(data.options()); });
  EXPECT_NE(message.find("test.jsonl:2: row schema is released"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, HellaswagLabelBeyondEndings) {
  ScratchData data;
  data.write("hellaswag/validation.jsonl",
             "{\"activity_label\": \"a\", \"ctx\": \"c\", \"endings\": [\"1\", \"2\", \"3\", \"4\"], \"label\": 4}\n");
  auto message = error_of([&] { tasks::load_hellaswag(data.options()); });
  EXPECT_NE(message.find("validation.jsonl:1: \"label\" 4 is out of range [0, 3]"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, MmluWrongFieldCount) {
  ScratchData data;
  data.write("mmlu/test/anatomy_test.csv", "\"q1\",a,b,c,d,A\n\"q2\",a,b,c,B\n");
  auto message = error_of([&] { tasks::load_mmlu(data.options()); });
  EXPECT_NE(message.find("anatomy_test.csv:2: expected 6 fields"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, MmluBadAnswerLetter) {
  ScratchData data;
  data.write("mmlu/test/anatomy_test.csv", "q1,a,b,c,d,E\n");
  auto message = error_of([&] { tasks::load_mmlu(data.options()); });
  EXPECT_NE(message.find("anatomy_test.csv:1: answer \"E\" is not one of A, B, C, D"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, MmluUnknownSubject) {
  ScratchData data;
  data.write("mmlu/test/astrology_test.csv", "q1,a,b,c,d,A\n");
  auto message = error_of([&] { tasks::load_mmlu(data.options()); });
  EXPECT_NE(message.find("\"astrology\" is not one of the 57 MMLU subjects"), std::string::npos) << message;
}

TEST(TaskLoaderErrors, MmluFewShotNeedsDevRows) {
  ScratchData data;
  data.write("mmlu/test/anatomy_test.csv", "q1,a,b,c,d,A\n");
  data.write("mmlu/dev/anatomy_dev.csv", "q0,a,b,c,d,B\n");
  auto options = data.options();
  options.num_fewshot = 2;
  auto message = error_of([&] { tasks::load_mmlu(options); });
  EXPECT_NE(message.find("anatomy_dev.csv: has 1 rows, fewer than --num-fewshot 2"), std::string::npos) << message;
}

}  // namespace
}  // namespace dartquant
