// `dartquant eval` with zero-shot tasks and `dartquant table`, run as a user runs them.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace dartquant {
namespace {

namespace fs = std::filesystem;
using testing::data_dir;
using testing::model_dir;
using testing::run_cli;

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

class TempDir {
 public:
  TempDir() : path_(testing::make_temp_dir("dq-tasks-cli")) {}
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(CliZeroShot, WikiAndMmluInOneResultsFile) {
  TempDir dir;
  auto results_path = dir.path() / "results.json";
  auto samples_path = dir.path() / "samples.jsonl";
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks wiki,mmlu --limit 1 --data-dir " +
                        quoted(data_dir()) + " --output " + quoted(results_path) + " --log-samples " +
                        quoted(samples_path));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("mmlu "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("57 subjects"), std::string::npos) << result.out;

  auto output = nlohmann::json::parse(testing::read_file(results_path));
  const auto& results = output["results"];
  EXPECT_TRUE(results.contains("wiki"));
  EXPECT_EQ(results["mmlu"]["samples"], 57);
  EXPECT_TRUE(results["mmlu"]["acc"].is_number());
  EXPECT_TRUE(results["mmlu"].contains("acc_stderr"));
  EXPECT_EQ(results["mmlu_anatomy"]["samples"], 1);
  EXPECT_TRUE(results.contains("mmlu_humanities"));

  const auto& zero_shot = output["config"]["zero_shot"];
  EXPECT_EQ(zero_shot["add_bos"], false);
  EXPECT_EQ(zero_shot["num_fewshot"], 0);
  EXPECT_EQ(zero_shot["mmlu_prompt"], "0.4.3");
  const auto& anatomy = zero_shot["data"]["mmlu_anatomy"];
  EXPECT_EQ(anatomy["format"], "released");
  EXPECT_EQ(anatomy["files"][0]["sha256"].get<std::string>().size(), 64u);

  // One line per request: 57 subjects, 1 question, 4 choices.
  std::ifstream samples(samples_path);
  std::string line;
  int64_t lines = 0;
  nlohmann::json first;
  while (std::getline(samples, line)) {
    if (lines == 0) {
      first = nlohmann::json::parse(line);
    }
    ++lines;
  }
  EXPECT_EQ(lines, 57 * 4);
  for (const char* key : {"task", "doc_id", "doc_index", "choice", "loglikelihood", "is_greedy", "context_tokens",
                          "continuation_tokens"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  EXPECT_EQ(first["task"], "mmlu_abstract_algebra");
  EXPECT_GE(first["continuation_tokens"].get<int64_t>(), 1);
}

TEST(CliZeroShot, FewShotOnlyForMmlu) {
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks piqa --num-fewshot 5 --data-dir " +
                        quoted(data_dir()));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("only mmlu has few-shot examples"), std::string::npos) << result.err;
}

TEST(CliZeroShot, UnknownMmluPromptVersion) {
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks mmlu --mmlu-prompt 0.5 --data-dir " +
                        quoted(data_dir()));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("expected 0.4.3 or 0.4.4"), std::string::npos) << result.err;
}

TEST(CliZeroShot, MalformedDataIsRuntimeError) {
  TempDir dir;
  fs::create_directories(dir.path() / "tasks" / "piqa");
  testing::write_file(dir.path() / "tasks" / "piqa" / "valid.jsonl",
                      "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0}\n{\"goal\": oops}\n");
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks piqa --data-dir " +
                        quoted(dir.path()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("valid.jsonl:2: invalid JSON"), std::string::npos) << result.err;
}

/// A results file as `dartquant eval --output` writes it, with the given metrics.
void write_results(const fs::path& path, const std::string& model, const std::string& method, const std::string& bits,
                   const std::vector<double>& percents, double wiki, const std::string& dtype = "float16") {
  const std::vector<std::pair<std::string, std::string>> columns = {
      {"winogrande", "acc"}, {"social_iqa", "acc"},    {"piqa", "acc_norm"},     {"openbookqa", "acc_norm"},
      {"lambada_openai", "acc"}, {"hellaswag", "acc_norm"}, {"arc_easy", "acc_norm"}, {"arc_challenge", "acc_norm"},
      {"mmlu", "acc"}};
  nlohmann::json results = nlohmann::json::object();
  for (size_t i = 0; i < percents.size(); ++i) {
    // The other metric gets a different value, so a column reading the wrong one shows.
    std::string other = columns[i].second == "acc" ? "acc_norm" : "acc";
    results[columns[i].first] = {{columns[i].second, percents[i] / 100.0}, {other, 0.0123}};
  }
  results["wiki"] = {{"ppl", wiki}};
  nlohmann::json file = {
      {"results", results},
      {"config", {{"model", {{"path", "/models/" + model}}}, {"method", method}, {"bits", bits}, {"dtype", dtype}}}};
  testing::write_file(path, file.dump());
}

TEST(CliTable, MarkdownLayout) {
  TempDir dir;
  write_results(dir.path() / "fp.json", "Mixtral-7$\\times$8b", "fp", "16-16-16",
                {76.24, 49.80, 83.57, 47.60, 78.05, 84.04, 83.67, 59.30, 67.29}, 3.84);
  write_results(dir.path() / "rtn.json", "Mixtral-7$\\times$8b", "rtn", "4-4-16",
                {52.09, 35.36, 53.05, 28.40, 0.80, 30.19, 33.88, 23.98, 23.35}, 284.32);
  write_results(dir.path() / "dq.json", "DeepSeek-moe-16b", "dartquant", "4-4-4",
                {67.24, 45.20, 78.67, 42.8, 71.46, 75.68, 71.02, 44.34, 35.06}, 6.91);
  auto result = run_cli("table " + quoted(dir.path() / "fp.json") + " " + quoted(dir.path() / "rtn.json") + " " +
                        quoted(dir.path() / "dq.json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;

  // Columns are as wide as their longest entry plus two spaces, entries centred (an odd
  // remainder goes right), the model name only on the first row of a model.
  const std::string expected =
      "|        model        |  bits  |  method   |  WG   | SIQA  | PIQA  | OBQA  | LAMB  |  HS   | ARC-E | ARC-C | MMLU  "
      "|  AVG  |  WIKI  |\n"
      "| :-----------------: | :----: | :-------: | :---: | :---: | :---: | :---: | :---: | :---: | :---: | :---: | :---: "
      "| :---: | :----: |\n"
      "| Mixtral-7$\\times$8b |  FP16  |     -     | 76.24 | 49.80 | 83.57 | 47.60 | 78.05 | 84.04 | 83.67 | 59.30 | 67.29 "
      "| 69.95 |  3.84  |\n"
      "|                     | 4-4-16 |    RTN    | 52.09 | 35.36 | 53.05 | 28.40 | 0.80  | 30.19 | 33.88 | 23.98 | 23.35 "
      "| 31.23 | 284.32 |\n"
      "|  DeepSeek-moe-16b   | 4-4-4  | DartQuant | 67.24 | 45.20 | 78.67 | 42.80 | 71.46 | 75.68 | 71.02 | 44.34 | 35.06 "
      "| 59.05 |  6.91  |\n";
  EXPECT_EQ(result.out, expected);
}

TEST(CliTable, CsvAndMissingValues) {
  TempDir dir;
  nlohmann::json partial = {{"results", {{"winogrande", {{"acc", 0.5}, {"acc_norm", 0.25}}}}},
                            {"config", {{"model", {{"path", "/m/tiny"}}}, {"method", "fp"}, {"bits", "16-16-16"}}}};
  testing::write_file(dir.path() / "partial.json", partial.dump());
  auto result = run_cli("table --csv " + quoted(dir.path() / "partial.json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "model,bits,method,WG,SIQA,PIQA,OBQA,LAMB,HS,ARC-E,ARC-C,MMLU,AVG,WIKI\n"
            "tiny,FP,-,50.00,-,-,-,-,-,-,-,-,-,-\n");
}

TEST(CliTable, NoFilesIsUsageError) {
  auto result = run_cli("table");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("at least one results file"), std::string::npos) << result.err;
}

TEST(CliTable, InvalidFileIsRuntimeError) {
  TempDir dir;
  testing::write_file(dir.path() / "bad.json", "{\"not\": \"results\"}");
  auto result = run_cli("table " + quoted(dir.path() / "bad.json"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("not a dartquant results file"), std::string::npos) << result.err;

  auto missing = run_cli("table " + quoted(dir.path() / "missing.json"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("missing.json"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace dartquant
