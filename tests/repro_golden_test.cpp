// CI regression: `reproduce` on the small MoE models, compared by `compare`
// with the golden tables that reproduce itself produced (configs/golden/), and
// a deliberately degraded run that the comparison must reject.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/quant/configs_dir.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::quoted;
using testing::run_cli;

/// Builds the reproduce command line the golden tables were made with (docs/reproduce.md).
std::string reproduce_arguments(const std::string& model, const std::filesystem::path& out_dir) {
  return "reproduce --model " + model + " --data-dir " + quoted(testing::data_dir()) +
         " --limit 25 --threads 1 --log-level warn --out-dir " + quoted(out_dir);
}

class GoldenRegression : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenRegression, ReproduceMatchesGoldenTable) {
  auto dir = testing::make_temp_dir("golden-" + GetParam());
  auto reproduced = run_cli(reproduce_arguments(GetParam(), dir));
  ASSERT_EQ(reproduced.exit_code, 0) << reproduced.err;

  auto golden = quant::locate_configs_dir() / "golden" / (GetParam() + ".json");
  auto compared = run_cli("compare " + quoted(dir / "table.json") + " --reference " + quoted(golden));
  EXPECT_EQ(compared.exit_code, 0) << compared.out << compared.err;
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(TinyMoe, GoldenRegression, ::testing::Values("tiny-mixtral", "tiny-deepseek-moe"),
                         [](const auto& info) {
                           auto name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(GoldenRegressionCheck, DegradedSettingFails) {
  // One row on WikiText-2 only, compared on WIKI: as it is it passes; with the
  // weights clipped to 30% of their range it must fail.
  auto golden = quant::locate_configs_dir() / "golden" / "tiny-deepseek-moe.json";
  for (bool degraded : {false, true}) {
    SCOPED_TRACE(degraded ? "degraded" : "as it is");
    auto dir = testing::make_temp_dir("golden-degraded");
    auto reproduced = run_cli(reproduce_arguments("tiny-deepseek-moe", dir) + " --rows rtn-4-4-16 --tasks wiki" +
                              (degraded ? " --set weights.clip_ratio=0.3" : ""));
    ASSERT_EQ(reproduced.exit_code, 0) << reproduced.err;

    auto compared = run_cli("compare " + quoted(dir / "table.json") + " --reference " + quoted(golden) +
                            " --columns WIKI --allow-missing-rows");
    EXPECT_EQ(compared.exit_code, degraded ? 3 : 0) << compared.out;
    EXPECT_EQ(compared.out.find("rtn 4-4-16 WIKI: ") != std::string::npos, degraded) << compared.out;
    std::filesystem::remove_all(dir);
  }
}

TEST(ReproduceCommand, SkipsFinishedRowsAndReusesRotations) {
  auto dir = testing::make_temp_dir("reproduce-resume");
  auto base = "reproduce --model stories260K --data-dir " + quoted(testing::data_dir()) +
              " --tasks wiki --limit 5 --nsamples 4 --seqlen 64 --threads 1 --out-dir " + quoted(dir);
  auto command = base + " --rows dartquant-4-4-16,dartquant-4-4-4";
  auto first = run_cli(command);
  ASSERT_EQ(first.exit_code, 0) << first.err;

  // The 4-4-4 row used the rotations the 4-4-16 row learned.
  auto results = nlohmann::json::parse(testing::read_file(dir / "dartquant-4-4-4.json"));
  EXPECT_EQ(results["config"]["quantization"]["dartquant"]["rotations"],
            std::filesystem::absolute(dir / "dartquant-rotations-seed0-n4-len64.safetensors").lexically_normal().string());
  auto table = nlohmann::json::parse(testing::read_file(dir / "table.json"));
  EXPECT_EQ(table["rows"].size(), 2u);

  // A second run keeps both rows.
  auto before = testing::read_file(dir / "dartquant-4-4-16.json");
  auto second = run_cli(command);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("dartquant-4-4-16: finished earlier"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("dartquant-4-4-4: finished earlier"), std::string::npos) << second.err;
  EXPECT_EQ(testing::read_file(dir / "dartquant-4-4-16.json"), before);

  // Another seed reruns the row, and the table holds only rows of the current settings.
  auto reseeded = run_cli(base + " --rows dartquant-4-4-4 --seed 7");
  ASSERT_EQ(reseeded.exit_code, 0) << reseeded.err;
  EXPECT_NE(reseeded.err.find("made with other settings; running the row again"), std::string::npos) << reseeded.err;
  EXPECT_NE(reseeded.err.find("made with other settings; left out of the table"), std::string::npos) << reseeded.err;
  table = nlohmann::json::parse(testing::read_file(dir / "table.json"));
  EXPECT_EQ(table["rows"].size(), 1u);

  auto unknown = run_cli("reproduce --model stories260K --rows gptq-4-4-4 --out-dir " + quoted(dir));
  EXPECT_EQ(unknown.exit_code, 2);
  auto empty = run_cli("reproduce --model stories260K --rows , --out-dir " + quoted(dir));
  EXPECT_EQ(empty.exit_code, 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
