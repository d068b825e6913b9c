// DartQuant calibration on the shared real models: orthogonality, seeding,
// lower Whip loss and int4 error than the random-Hadamard start, resuming,
// the rotations file, and the quantize command.
#include <cstdlib>
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "calibration/calibration_state.h"
#include "cli/dartquant_cli.h"
#include "dartquant/calibration/calibration_data.h"
#include "dartquant/calibration/dartquant_calibrator.h"
#include "dartquant/calibration/rotations_file.h"
#include "dartquant/core/error.h"
#include "dartquant/model/causal_lm.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/quant/model_quantizer.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::data_dir;
using testing::model_dir;
using testing::quoted;
using testing::run_cli;

/// Loads a model and preprocesses it (centering, norm folding) as calibration expects.
model::CausalLM preprocessed(const std::string& model) {
  auto lm = model::CausalLM::load(model_dir(model), ComputeOptions{});
  quant::preprocess_model(lm, quant::QuantizeOptions{});
  return lm;
}

calibration::CalibrationOptions small_options(const model::ModelConfig& config, uint64_t seed) {
  calibration::CalibrationOptions options;
  options.settings = calibration::load_dartquant_settings(quant::locate_configs_dir() / "dartquant.json", config);
  options.settings.r1_lr_sweep.clear();
  options.seed = seed;
  options.max_memory = int64_t{1} << 30;
  return options;
}

struct Run {
  calibration::LearnedRotations rotations;
  calibration::CalibrationReport report;
};

Run calibrate(const std::string& model, const calibration::CalibrationOptions& options, int64_t count = 16,
              int64_t seqlen = 256) {
  auto lm = preprocessed(model);
  auto windows = testing::wiki_windows(model, count, seqlen, 0);
  Run run;
  run.rotations = calibration::calibrate_dartquant(lm, windows, options, &run.report);
  return run;
}

bool same_rotations(const calibration::LearnedRotations& a, const calibration::LearnedRotations& b) {
  if (!at::equal(a.r1, b.r1) || a.r2.size() != b.r2.size()) {
    return false;
  }
  for (size_t i = 0; i < a.r2.size(); ++i) {
    if (!at::equal(a.r2[i], b.r2[i])) {
      return false;
    }
  }
  return true;
}

class DartQuantOnModel : public ::testing::TestWithParam<std::string> {};

TEST_P(DartQuantOnModel, LowersWhipAndInt4ErrorWithOrthogonalRotations) {
  auto config = model::ModelConfig::load(model_dir(GetParam()));
  auto run = calibrate(GetParam(), small_options(config, 0), 32, 256);
  const auto& report = run.report;

  EXPECT_LE(calibration::orthogonality_error(run.rotations.r1), 1e-5);
  ASSERT_EQ(static_cast<int64_t>(run.rotations.r2.size()), config.num_hidden_layers);
  for (const auto& r2 : run.rotations.r2) {
    EXPECT_EQ(r2.sizes().vec(), (std::vector<int64_t>{config.num_key_value_heads, config.head_dim, config.head_dim}));
    EXPECT_LE(calibration::orthogonality_error(r2), 1e-5);
  }

  EXPECT_LT(report.r1_trained.whip, report.r1_initial.whip);
  EXPECT_LT(report.r1_trained.int4_error, report.r1_initial.int4_error);
  double whip_before = 0;
  double whip_after = 0;
  double error_before = 0;
  double error_after = 0;
  for (const auto& layer : report.r2) {
    whip_before += layer.initial.whip;
    whip_after += layer.trained.whip;
    error_before += layer.initial.int4_error;
    error_after += layer.trained.int4_error;
  }
  EXPECT_LT(whip_after, whip_before);
  EXPECT_LT(error_after, error_before);
}

INSTANTIATE_TEST_SUITE_P(SharedModels, DartQuantOnModel,
                         ::testing::Values("stories260K", "tiny-llama-5m", "tiny-mixtral", "tiny-deepseek-moe"));

TEST(DartQuantCalibration, SeedDeterminesRotationsBitwise) {
  auto config = model::ModelConfig::load(model_dir("stories260K"));
  auto first = calibrate("stories260K", small_options(config, 0));
  auto second = calibrate("stories260K", small_options(config, 0));
  auto other = calibrate("stories260K", small_options(config, 1));
  EXPECT_TRUE(same_rotations(first.rotations, second.rotations));
  EXPECT_FALSE(at::equal(first.rotations.r1, other.rotations.r1));
  EXPECT_FALSE(at::equal(first.rotations.r2[0], other.rotations.r2[0]));
}

TEST(DartQuantCalibration, SpillingToDiskGivesTheSameRotations) {
  auto config = model::ModelConfig::load(model_dir("stories260K"));
  auto in_memory = calibrate("stories260K", small_options(config, 0));
  auto options = small_options(config, 0);
  options.max_memory = 0;  // every R1 chunk on disk
  options.state_dir = testing::make_temp_dir("dq-spill");
  auto spilled = calibrate("stories260K", options);
  EXPECT_EQ(spilled.report.r1_bytes_in_memory, 0);
  EXPECT_GT(spilled.report.r1_bytes_on_disk, 0);
  EXPECT_TRUE(same_rotations(in_memory.rotations, spilled.rotations));
  std::filesystem::remove_all(options.state_dir);
}

TEST(DartQuantCalibration, ResumesAfterTheLastFinishedLayer) {
  auto config = model::ModelConfig::load(model_dir("stories260K"));
  auto options = small_options(config, 0);
  options.identity = R"({"test": "resume"})";
  auto full = calibrate("stories260K", options);

  // The state an interrupted run leaves after finishing layers 0 and 1.
  options.state_dir = testing::make_temp_dir("dq-resume");
  {
    calibration::CalibrationState state(options.state_dir, options.identity, config);
    state.record_r2(0, full.rotations.r2[0]);
    state.record_r2(1, full.rotations.r2[1]);
  }
  auto resumed = calibrate("stories260K", options);
  ASSERT_EQ(resumed.report.r2.size(), 5u);
  EXPECT_TRUE(resumed.report.r2[0].resumed);
  EXPECT_TRUE(resumed.report.r2[1].resumed);
  EXPECT_FALSE(resumed.report.r2[2].resumed);
  EXPECT_TRUE(same_rotations(full.rotations, resumed.rotations));
  EXPECT_FALSE(std::filesystem::exists(options.state_dir)) << "a finished calibration removes its state";

  // State of another run is not reused.
  {
    calibration::CalibrationState state(options.state_dir, R"({"test": "other"})", config);
    state.record_r2(0, full.rotations.r2[1]);
  }
  auto fresh = calibrate("stories260K", options);
  EXPECT_FALSE(fresh.report.r2[0].resumed);
  EXPECT_TRUE(same_rotations(full.rotations, fresh.rotations));
  std::filesystem::remove_all(options.state_dir);
}

TEST(RotationsFile, RoundTripsAndRejectsAnotherModel) {
  auto config = model::ModelConfig::load(model_dir("stories260K"));
  auto run = calibrate("stories260K", small_options(config, 0), 8, 128);
  auto dir = testing::make_temp_dir("dq-rotations");
  auto file = dir / "rotations.safetensors";
  calibration::save_rotations(file, run.rotations, config, {{"seed", "0"}});
  auto loaded = calibration::load_rotations(file, config);
  EXPECT_TRUE(same_rotations(run.rotations, loaded));
  EXPECT_EQ(calibration::rotations_metadata(file).at("seed"), "0");

  auto other = model::ModelConfig::load(model_dir("tiny-llama-5m"));
  try {
    calibration::load_rotations(file, other);
    ADD_FAILURE() << "rotations of stories260K accepted for tiny-llama-5m";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(file.string()), std::string::npos) << error.what();
  }

  auto damaged = run.rotations;
  damaged.r2[3] = damaged.r2[3] * 1.01;
  calibration::save_rotations(file, damaged, config, {});
  try {
    calibration::load_rotations(file, config);
    ADD_FAILURE() << "a non-orthogonal R2 was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("r2.layers.3"), std::string::npos) << error.what();
  }
  std::filesystem::remove_all(dir);
}

std::string quantize_args(const std::string& extra) {
  return "quantize --model " + quoted(model_dir("stories260K")) + " --method dartquant --bits 4-4-4 --nsamples 16" +
         " --seqlen 256 --data-dir " + quoted(data_dir()) + " " + extra;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(CliDartquant, CalibratesSavesAndReusesRotations) {
  auto dir = testing::make_temp_dir("dq-cli-dartquant");
  auto eval = " --eval wiki --eval-seqlen 512 --limit 20 --calib-state " + quoted(dir / "state");
  auto first = run_cli(quantize_args("--save-rotations " + quoted(dir / "rot.safetensors") + eval + " --output " +
                                     quoted(dir / "first.json")));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("R1 epoch 10/10"), std::string::npos) << first.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "rot.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir / "state")) << "the state folder is removed after success";

  auto second = run_cli(quantize_args("--rotations " + quoted(dir / "rot.safetensors") + eval + " --output " +
                                      quoted(dir / "second.json")));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.err.find("R1 epoch"), std::string::npos) << "calibration should be skipped";

  auto a = read_json(dir / "first.json");
  auto b = read_json(dir / "second.json");
  EXPECT_EQ(a["results"]["wiki"]["ppl"].get<double>(), b["results"]["wiki"]["ppl"].get<double>());
  const auto& report = a["config"]["quantization"]["dartquant"]["report"];
  EXPECT_EQ(report["r2"].size(), 5u);
  EXPECT_EQ(report["r1"]["epoch_loss"].size(), 10u);
  EXPECT_GT(report["collection_seconds"].get<double>(), 0.0);
  std::filesystem::remove_all(dir);
}

TEST(CliDartquant, StoppedRunResumesToIdenticalRotations) {
  auto dir = testing::make_temp_dir("dq-cli-resume");
  auto args = "quantize --model " + quoted(model_dir("tiny-llama-5m")) +
              " --method dartquant --bits 4-4-4 --weight-quantizer rtn --nsamples 32 --seqlen 256 --threads 1" +
              " --data-dir " + quoted(data_dir());
  auto reference = run_cli(args + " --calib-state " + quoted(dir / "reference-state") + " --save-rotations " +
                           quoted(dir / "reference.safetensors"));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  // SIGTERM as soon as the state folder contains a finished layer: the process
  // exits at once, with no cleanup, like a kill -9.
  auto state = dir / "state";
  auto resumable = args + " --calib-state " + quoted(state) + " --save-rotations " + quoted(dir / "resumed.safetensors");
  std::string script = std::string("'") + DARTQUANT_CLI + "' " + resumable + " 2>" + quoted(dir / "killed.err") + " & pid=$!; " +
                       "for i in $(seq 1200); do [ -f " + quoted(state / "r2.safetensors") +
                       " ] && break; sleep 0.05; done; kill -TERM $pid; wait $pid; echo $? > " +
                       quoted(dir / "killed.rc");
  testing::write_file(dir / "kill.sh", script);
  ASSERT_EQ(std::system(("bash " + quoted(dir / "kill.sh")).c_str()), 0);
  EXPECT_EQ(testing::read_file(dir / "killed.rc"), "130\n");
  EXPECT_NE(testing::read_file(dir / "killed.err").find("run the same command again to resume"), std::string::npos);
  ASSERT_TRUE(std::filesystem::exists(state / "r2.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir / "resumed.safetensors")) << "a killed run must not leave rotations";

  auto resumed = run_cli(resumable);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming calibration"), std::string::npos) << resumed.err;
  EXPECT_EQ(testing::read_file(dir / "resumed.safetensors"), testing::read_file(dir / "reference.safetensors"));
  std::filesystem::remove_all(dir);
}

TEST(CliDartquant, ParsesByteSizes) {
  EXPECT_EQ(cli::parse_byte_size("1024", "--max-memory"), 1024);
  EXPECT_EQ(cli::parse_byte_size("512MiB", "--max-memory"), int64_t{512} << 20);
  EXPECT_EQ(cli::parse_byte_size("8G", "--max-memory"), int64_t{8} << 30);
  EXPECT_EQ(cli::parse_byte_size("1.5GiB", "--max-memory"), int64_t{3} << 29);
  EXPECT_EQ(cli::parse_byte_size("0", "--max-memory"), 0);
  for (const char* bad : {"", "lots", "8 GiB", "8XB", "-1G", "inf", "nan", "99999999T"}) {
    EXPECT_THROW(cli::parse_byte_size(bad, "--max-memory"), UsageError) << bad;
  }
}

TEST(CliDartquant, BadOptionsAreReported) {
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const Case cases[] = {
      {"quantize --model " + quoted(model_dir("stories260K")) + " --method quarot --r1-lr 0.01", 2, "--r1-lr"},
      {quantize_args("--rotations /nonexistent/rot.safetensors"), 1, "/nonexistent/rot.safetensors"},
      {quantize_args("--max-memory lots"), 2, "--max-memory lots"},
      {quantize_args("--optimizer lbfgs"), 2, "lbfgs"},
      {quantize_args("--rotations a.safetensors --save-rotations b.safetensors"), 2, "--save-rotations"},
      {quantize_args("--calib-state /proc/dartquant-state"), 1, "/proc/dartquant-state"},
  };
  for (const auto& test_case : cases) {
    auto result = run_cli(test_case.args);
    EXPECT_EQ(result.exit_code, test_case.exit_code) << test_case.args;
    EXPECT_NE(result.err.find(test_case.message), std::string::npos) << test_case.args << "\n" << result.err;
  }

  auto dir = testing::make_temp_dir("dq-cli-bad-rotations");
  testing::write_file(dir / "rot.safetensors", "not a safetensors file");
  auto output = dir / "out.json";
  auto damaged = run_cli(quantize_args("--rotations " + quoted(dir / "rot.safetensors") + " --output " +
                                       quoted(output)));
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.err.find("rot.safetensors"), std::string::npos) << damaged.err;
  EXPECT_FALSE(std::filesystem::exists(output));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
