// dartquant compare and the table files: a passing table, a failing cell, a
// missing row, malformed JSON, and the DartQuant paper's tables in configs/paper/.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/repro/compare.h"
#include "dartquant/repro/result_table.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::quoted;
using testing::run_cli;

nlohmann::json row(const std::string& method, const std::string& bits, double wg, double avg, double wiki) {
  return {{"method", method}, {"bits", bits}, {"WG", wg}, {"AVG", avg}, {"WIKI", wiki}};
}

/// Writes a table file with `rows` and returns its path.
std::filesystem::path write_table(const std::filesystem::path& dir, const std::string& name,
                                  const std::vector<nlohmann::json>& rows) {
  auto path = dir / name;
  testing::write_file(path, nlohmann::json{{"model", "m"}, {"rows", rows}}.dump());
  return path;
}

class CompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("compare");
    reference_ = write_table(dir_, "reference.json",
                             {row("fp", "16-16-16", 70.0, 60.0, 5.00), row("quarot", "4-4-4", 65.0, 55.0, 6.00)});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::filesystem::path reference_;
};

TEST_F(CompareTest, WithinToleranceOrBetterPasses) {
  // WIKI +2.9% and WG −1.4 points are within the defaults; better cells never fail.
  auto ours = write_table(dir_, "ours.json",
                          {row("fp", "16-16-16", 68.6, 60.5, 5.145), row("quarot", "4-4-4", 80.0, 59.4, 4.0)});
  auto result = run_cli("compare " + quoted(ours) + " --reference " + quoted(reference_));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("0 worse than the tolerance"), std::string::npos) << result.out;
}

TEST_F(CompareTest, WorseCellExitsThree) {
  auto ours = write_table(dir_, "ours.json",
                          {row("fp", "16-16-16", 70.0, 60.0, 5.0), row("quarot", "4-4-4", 65.0, 55.0, 6.3)});
  auto result = run_cli("compare " + quoted(ours) + " --reference " + quoted(reference_));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.out.find("quarot 4-4-4 WIKI: 6.30 against 6.00 (+5.0%)"), std::string::npos) << result.out;

  // A wider tolerance accepts it.
  auto relaxed = run_cli("compare " + quoted(ours) + " --reference " + quoted(reference_) + " --wiki-tolerance 6");
  EXPECT_EQ(relaxed.exit_code, 0) << relaxed.out;
}

TEST_F(CompareTest, AccuracyAndAverageDropsFail) {
  repro::ResultTable reference = repro::read_table(reference_);
  std::vector<repro::TableEntry> ours{{"fp", "16-16-16", {{"WG", 68.4}, {"AVG", 59.2}, {"WIKI", 5.0}}},
                                      {"quarot", "4-4-4", {{"WG", 65.0}, {"WIKI", 6.0}}}};
  auto comparison = repro::compare_tables(ours, reference, repro::Tolerances{});
  std::vector<std::string> failed;
  for (const auto& cell : comparison.cells) {
    if (cell.failed) {
      failed.push_back(cell.row + " " + cell.column);
    }
  }
  // WG −1.6 > 1.5 points, AVG −0.8 > 0.7 points, quarot's AVG missing.
  EXPECT_EQ(failed, (std::vector<std::string>{"fp WG", "fp AVG", "quarot 4-4-4 AVG"}));
  EXPECT_FALSE(comparison.passed(true));
}

TEST_F(CompareTest, MissingRowFailsUnlessAllowed) {
  auto ours = write_table(dir_, "ours.json", {row("fp", "16-16-16", 70.0, 60.0, 5.0)});
  auto result = run_cli("compare " + quoted(ours) + " --reference " + quoted(reference_));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.out.find("row missing from our results: quarot 4-4-4"), std::string::npos) << result.out;

  auto allowed = run_cli("compare " + quoted(ours) + " --reference " + quoted(reference_) + " --allow-missing-rows");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
}

TEST_F(CompareTest, MalformedFilesAreRuntimeErrors) {
  auto broken = dir_ / "broken.json";
  testing::write_file(broken, "{\"rows\": [");
  auto result = run_cli("compare " + quoted(broken) + " --reference " + quoted(reference_));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("broken.json: invalid JSON"), std::string::npos) << result.err;

  auto unknown_column = write_table(dir_, "unknown.json", {{{"method", "fp"}, {"bits", "16-16-16"}, {"WGX", 1.0}}});
  auto column = run_cli("compare " + quoted(reference_) + " --reference " + quoted(unknown_column));
  EXPECT_EQ(column.exit_code, 1);
  EXPECT_NE(column.err.find("WGX"), std::string::npos) << column.err;

  auto text_cell = write_table(dir_, "text.json", {{{"method", "fp"}, {"bits", "16-16-16"}, {"WG", "high"}}});
  EXPECT_THROW(repro::read_table(text_cell), Error);
  auto no_reference = run_cli("compare " + quoted(reference_));
  EXPECT_EQ(no_reference.exit_code, 2);
}

TEST(PaperTables, HoldEveryRowOfTheMoeTable) {
  auto configs = quant::locate_configs_dir();
  for (const char* name : {"paper/mixtral-8x7b.json", "paper/deepseek-moe-16b.json"}) {
    SCOPED_TRACE(name);
    auto table = repro::read_table(configs / name);
    ASSERT_EQ(table.rows.size(), 7u);
    for (const auto& entry : table.rows) {
      EXPECT_EQ(entry.cells.size(), repro::table_columns().size()) << entry.key();
    }
  }
  // Spot checks against the published table.
  auto mixtral = repro::read_table(configs / "paper/mixtral-8x7b.json");
  EXPECT_EQ(mixtral.rows[6].key(), "dartquant 4-4-4");
  EXPECT_DOUBLE_EQ(mixtral.rows[6].cells.at("WIKI"), 4.80);
  EXPECT_DOUBLE_EQ(mixtral.rows[0].cells.at("AVG"), 69.95);
  auto deepseek = repro::read_table(configs / "paper/deepseek-moe-16b.json");
  EXPECT_DOUBLE_EQ(deepseek.rows[4].cells.at("WIKI"), 140.16);
}

}  // namespace
}  // namespace dartquant
