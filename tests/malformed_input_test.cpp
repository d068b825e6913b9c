// Malformed inputs through the CLI: each copies a real file from the shared data
// into a temp folder, damages it in one way, and checks for exit code 1 and a
// message that names the file, the tensor or line, and the problem. Each test
// records the message as the gtest property "message" (see docs/robustness.md).
#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/calibration/rotations_file.h"
#include "dartquant/core/error.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/io/safetensors_writer.h"
#include "dartquant/model/config.h"
#include "test_support.h"

namespace dartquant {
namespace {

namespace fs = std::filesystem;
using testing::data_dir;
using testing::model_dir;
using testing::quoted;
using testing::run_cli;

/// A temp folder removed at the end of the test.
class TempFolder {
 public:
  TempFolder() : path_(testing::make_temp_dir("dq-malformed")) {}
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Copies the model folder `name` of the shared data to `dir / name`.
fs::path copy_model(const std::string& name, const fs::path& dir) {
  fs::path copy = dir / name;
  fs::copy(model_dir(name), copy, fs::copy_options::recursive);
  return copy;
}

/// Rewrites `folder`'s model.safetensors with `edit` applied to its tensor list.
void rewrite_weights(const fs::path& folder,
                     const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    auto checkpoint = io::Checkpoint::open(folder / "model.safetensors");
    for (const auto& name : checkpoint.names()) {
      tensors.emplace_back(name, checkpoint.load(name).clone());
    }
  }
  edit(tensors);
  io::write_safetensors(folder / "model.safetensors", tensors);
}

/// Sets one key of `folder`'s config.json.
void set_config_key(const fs::path& folder, const std::string& key, const nlohmann::json& value) {
  auto config = nlohmann::json::parse(testing::read_file(folder / "config.json"));
  config[key] = value;
  testing::write_file(folder / "config.json", config.dump(2));
}

/// Runs `dartquant eval` on `model` with the WikiText-2 task of the shared data.
testing::CommandResult eval_wiki(const fs::path& model) {
  return run_cli("eval --model " + quoted(model) + " --tasks wiki --limit 1 --data-dir " + quoted(data_dir()));
}

/// Checks exit code 1 and that stderr contains every part, and records the message.
void expect_clear_error(const testing::CommandResult& result, const std::vector<std::string>& parts) {
  EXPECT_EQ(result.exit_code, 1) << result.err;
  for (const auto& part : parts) {
    EXPECT_NE(result.err.find(part), std::string::npos) << "missing \"" << part << "\" in: " << result.err;
  }
  ::testing::Test::RecordProperty("message", result.err);
}

// --- safetensors file and checkpoint ---

TEST(MalformedCheckpoint, TruncatedSafetensorsFile) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  auto file = model / "model.safetensors";
  fs::resize_file(file, fs::file_size(file) / 2);
  expect_clear_error(eval_wiki(model), {file.string()});
}

TEST(MalformedCheckpoint, IntegerDtypeInHeader) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  auto file = model / "model.safetensors";
  // I32 has the size of F32, so the file stays consistent and only the dtype is wrong.
  auto bytes = testing::read_file(file);
  auto at = bytes.find("\"dtype\":\"F32\"");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 13, "\"dtype\":\"I32\"");
  testing::write_file(file, bytes);
  expect_clear_error(eval_wiki(model), {file.string(), "model.embed_tokens.weight", "integer dtype"});
}

TEST(MalformedCheckpoint, HalfDtypeMismatchesByteSize) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  auto file = model / "model.safetensors";
  auto bytes = testing::read_file(file);
  auto at = bytes.find("\"dtype\":\"F32\"");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 13, "\"dtype\":\"F16\"");
  testing::write_file(file, bytes);
  expect_clear_error(eval_wiki(model), {file.string(), "model.embed_tokens.weight"});
}

TEST(MalformedCheckpoint, MissingShardFile) {
  TempFolder dir;
  auto model = copy_model("tiny-mixtral-sharded", dir.path());
  fs::remove(model / "model-00002-of-00002.safetensors");
  expect_clear_error(eval_wiki(model), {"model.safetensors.index.json", "model-00002-of-00002.safetensors"});
}

// --- weights against config.json ---

TEST(MalformedWeights, HiddenSizeMismatch) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  set_config_key(model, "hidden_size", 128);
  set_config_key(model, "head_dim", 16);
  expect_clear_error(eval_wiki(model), {"model.safetensors", "model.embed_tokens.weight", "[512, 64]", "[512, 128]",
                                        "config.json does not match the weights"});
}

TEST(MalformedWeights, VocabSizeMismatch) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  set_config_key(model, "vocab_size", 600);
  expect_clear_error(eval_wiki(model), {"model.safetensors", "model.embed_tokens.weight", "[512, 64]", "[600, 64]"});
}

TEST(MalformedWeights, MissingTensor) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  const std::string removed = "model.layers.2.mlp.down_proj.weight";
  rewrite_weights(model, [&](auto& tensors) {
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [&](const auto& entry) { return entry.first == removed; }),
                  tensors.end());
  });
  expect_clear_error(eval_wiki(model), {model.string(), removed, "missing from the checkpoint"});
}

TEST(MalformedWeights, ExtraTensor) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  rewrite_weights(model, [](auto& tensors) { tensors.emplace_back("model.layers.5.mlp.up_proj.weight", at::zeros({4, 4})); });
  expect_clear_error(eval_wiki(model), {model.string(), "model.layers.5.mlp.up_proj.weight", "does not account for"});
}

TEST(MalformedWeights, NanWeight) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  rewrite_weights(model, [](auto& tensors) {
    for (auto& [name, tensor] : tensors) {
      if (name == "model.layers.1.self_attn.v_proj.weight") {
        tensor[3][5] = std::numeric_limits<float>::quiet_NaN();
      }
    }
  });
  expect_clear_error(eval_wiki(model), {(model / "model.safetensors").string(), "model.layers.1.self_attn.v_proj.weight",
                                        "1 NaN, 0 Inf"});
}

TEST(MalformedWeights, InfWeightInQuantize) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  rewrite_weights(model, [](auto& tensors) {
    for (auto& [name, tensor] : tensors) {
      if (name == "model.norm.weight") {
        tensor[0] = std::numeric_limits<float>::infinity();
      }
    }
  });
  auto result = run_cli("quantize --model " + quoted(model) + " --method rtn --bits 4-16-16");
  expect_clear_error(result, {(model / "model.safetensors").string(), "model.norm.weight", "0 NaN, 1 Inf"});
}

// --- tokenizer against the model ---

TEST(MalformedTokenizer, LargerThanEmbedding) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  fs::copy_file(model_dir("llama2-tokenizer") / "tokenizer.model", model / "tokenizer.model",
                fs::copy_options::overwrite_existing);
  expect_clear_error(eval_wiki(model), {"tokenizer.model", "32000 tokens", "vocab_size 512"});
}

TEST(MalformedTokenizer, TruncatedSentencePieceModel) {
  TempFolder dir;
  auto model = copy_model("stories260K", dir.path());
  auto file = model / "tokenizer.model";
  fs::resize_file(file, fs::file_size(file) / 3);
  expect_clear_error(eval_wiki(model), {file.string()});
}

// --- task data ---

/// Copies the piqa files of the shared data to `dir/tasks/piqa`.
fs::path copy_piqa(const fs::path& dir) {
  auto folder = dir / "tasks" / "piqa";
  fs::create_directories(folder);
  fs::copy(data_dir() / "tasks" / "piqa", folder, fs::copy_options::recursive);
  return folder;
}

testing::CommandResult eval_piqa(const fs::path& data) {
  return run_cli("eval --model " + quoted(model_dir("stories260K")) + " --tasks piqa --limit 2 --data-dir " +
                 quoted(data));
}

TEST(MalformedTasks, EmptyTaskFile) {
  TempFolder dir;
  auto folder = copy_piqa(dir.path());
  testing::write_file(folder / "valid.jsonl", "");
  expect_clear_error(eval_piqa(dir.path()), {(folder / "valid.jsonl").string(), "empty"});
}

TEST(MalformedTasks, LabelOutOfRange) {
  TempFolder dir;
  auto folder = copy_piqa(dir.path());
  auto labels = testing::read_file(folder / "valid-labels.lst");
  labels.replace(labels.find('\n') + 1, 1, "7");  // the label of line 2
  testing::write_file(folder / "valid-labels.lst", labels);
  expect_clear_error(eval_piqa(dir.path()), {"valid-labels.lst:2: label 7 is out of range"});
}

TEST(MalformedTasks, MissingLabelLines) {
  TempFolder dir;
  auto folder = copy_piqa(dir.path());
  testing::write_file(folder / "valid-labels.lst", "0\n1\n");
  expect_clear_error(eval_piqa(dir.path()), {"valid-labels.lst"});
}

// --- calibration text and rotations ---

TEST(MalformedCalibration, EmptyCalibrationText) {
  TempFolder dir;
  auto calib = dir.path() / "calib.txt";
  testing::write_file(calib, "");
  auto result = run_cli("quantize --model " + quoted(model_dir("stories260K")) +
                        " --method gptq --bits 4-16-16 --nsamples 2 --seqlen 16 --calib-data " + quoted(calib));
  expect_clear_error(result, {calib.string(), "empty"});
}

/// Identity R1 and R2 of `config`'s shapes: a valid rotations file to damage.
calibration::LearnedRotations identity_rotations(const model::ModelConfig& config) {
  calibration::LearnedRotations rotations;
  rotations.r1 = at::eye(config.hidden_size, at::kFloat);
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    rotations.r2.push_back(
        at::eye(config.head_dim, at::kFloat).expand({config.num_key_value_heads, config.head_dim, config.head_dim}).clone());
  }
  return rotations;
}

TEST(MalformedRotations, TruncatedRotationsFile) {
  TempFolder dir;
  auto config = model::ModelConfig::load(model_dir("stories260K"));
  auto rotations = identity_rotations(config);
  auto file = dir.path() / "rotations.safetensors";
  calibration::save_rotations(file, rotations, config, {});
  ASSERT_NO_THROW(calibration::load_rotations(file, config));

  fs::resize_file(file, fs::file_size(file) - 100);
  try {
    calibration::load_rotations(file, config);
    ADD_FAILURE() << "a truncated rotations file was accepted";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    ::testing::Test::RecordProperty("message", message);
  }
}

TEST(MalformedRotations, NanInRotation) {
  TempFolder dir;
  auto config = model::ModelConfig::load(model_dir("stories260K"));
  auto rotations = identity_rotations(config);
  rotations.r2[1][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  auto file = dir.path() / "rotations.safetensors";
  calibration::save_rotations(file, rotations, config, {});
  try {
    calibration::load_rotations(file, config);
    ADD_FAILURE() << "a rotation with NaN was accepted";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("r2.layers.1"), std::string::npos) << message;
    ::testing::Test::RecordProperty("message", message);
  }
}

}  // namespace
}  // namespace dartquant
