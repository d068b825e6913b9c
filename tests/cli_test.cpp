// The dartquant command line as a user runs it: exit codes, messages, outputs.
#include <fstream>

#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace dartquant {
namespace {

using testing::data_dir;
using testing::model_dir;
using testing::run_cli;

using testing::quoted;

TEST(Cli, NoCommandIsUsageError) {
  auto result = run_cli("");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("usage: dartquant"), std::string::npos);
}

TEST(Cli, UnknownCommandIsUsageError) {
  auto result = run_cli("frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown command \"frobnicate\""), std::string::npos) << result.err;
}

TEST(Cli, HelpExitsZero) {
  auto result = run_cli("eval --help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("--seqlen"), std::string::npos);
}

TEST(CliEval, UnknownFlagIsUsageError) {
  auto result = run_cli("eval --model x --bogus 3");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("bogus"), std::string::npos) << result.err;
}

TEST(CliEval, MissingModelIsUsageError) {
  auto result = run_cli("eval --tasks wiki");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--model is required"), std::string::npos) << result.err;
}

TEST(CliEval, UnknownTaskIsUsageError) {
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks wiki,poetry --data-dir " +
                        quoted(data_dir()));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown task \"poetry\""), std::string::npos) << result.err;
}

TEST(CliEval, NonexistentModelFolderIsRuntimeError) {
  auto result = run_cli("eval --model /nonexistent/model --tasks wiki --data-dir " + quoted(data_dir()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("/nonexistent/model"), std::string::npos) << result.err;
}

TEST(CliEval, CudaWithoutGpuIsRuntimeError) {
  if (at::hasCUDA()) {
    GTEST_SKIP() << "a GPU is visible; this case needs a machine without one";
  }
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --device cuda --data-dir " +
                        quoted(data_dir()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--device cuda"), std::string::npos) << result.err;
}

TEST(CliEval, InvalidDeviceIsUsageError) {
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --device tpu");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--device tpu"), std::string::npos) << result.err;
}

TEST(CliEval, MissingDataDirIsReported) {
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --data-dir /nonexistent/data");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("/nonexistent/data/wikitext-2-raw/wiki.test.raw"), std::string::npos) << result.err;
}

TEST(CliEval, WikiWritesResultsJson) {
  auto dir = testing::make_temp_dir("dq-eval");
  auto output = dir / "results.json";
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks wiki --seqlen 256 --limit 3 " +
                        "--data-dir " + quoted(data_dir()) + " --output " + quoted(output));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("wiki"), std::string::npos);

  std::ifstream in(output);
  auto json = nlohmann::json::parse(in);
  EXPECT_GT(json["results"]["wiki"]["ppl"].get<double>(), 1.0);
  EXPECT_EQ(json["results"]["wiki"]["windows"].get<int64_t>(), 3);
  EXPECT_EQ(json["config"]["seqlen"].get<int64_t>(), 256);
  EXPECT_EQ(json["config"]["dtype"].get<std::string>(), "float32");
  EXPECT_EQ(json["config"]["tokenizer"]["kind"].get<std::string>(), "sentencepiece");
  EXPECT_EQ(json["config"]["model"]["weights_sha256"]["model.safetensors"].get<std::string>(),
            "199ed7e0ceb0f5e04b5bb1057e80d6a9d9dae33bcf29d46d670bf763161571c6");
  EXPECT_EQ(json["config"]["data"]["wiki"]["sha256"].get<std::string>(),
            "173c87a53759e0201f33e0ccf978e510c2042d7f2cb78229d9a50d79b9e7dd08");
  std::filesystem::remove_all(dir);
}

TEST(CliEval, TextFileTask) {
  auto dir = testing::make_temp_dir("dq-eval");
  std::string story;
  for (int i = 0; i < 40; ++i) {
    story += "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\n";
  }
  testing::write_file(dir / "story.txt", story);
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks text --text-file " +
                        quoted(dir / "story.txt") + " --seqlen 128");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("text"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(CliEval, RouterStatsForMoeModel) {
  auto dir = testing::make_temp_dir("dq-eval");
  auto output = dir / "results.json";
  auto result = run_cli("eval --model " + quoted(model_dir("tiny-mixtral")) + " --seqlen 128 --limit 2 --router-stats" +
                        " --data-dir " + quoted(data_dir()) + " --output " + quoted(output));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("| layer |"), std::string::npos) << result.out;
  std::ifstream in(output);
  auto json = nlohmann::json::parse(in);
  auto layer = json["router_stats"]["layers"]["0"];
  EXPECT_EQ(layer["fractions"].size(), 8u);
  EXPECT_EQ(layer["assignments"].get<int64_t>(), 2 * 128 * 2);  // windows × tokens × top-k
  std::filesystem::remove_all(dir);
}

TEST(CliEval, FailedRunLeavesNoOutput) {
  auto dir = testing::make_temp_dir("dq-eval");
  auto output = dir / "results.json";
  auto result = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --seqlen 100000 --data-dir " +
                        quoted(data_dir()) + " --output " + quoted(output));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("exceeds the model's max_position_embeddings"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(output));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
