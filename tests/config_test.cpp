// Parsing and validation of config.json.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"
#include "dartquant/model/config.h"
#include "test_support.h"

namespace dartquant {
namespace {

using model::Architecture;
using model::ModelConfig;
using nlohmann::json;

json read_config(const std::string& model) {
  std::ifstream in(testing::model_dir(model) / "config.json");
  return json::parse(in);
}

/// Expects from_json to throw an Error whose message contains `fragment`.
void expect_rejected(const json& config, const std::string& fragment) {
  try {
    ModelConfig::from_json(config, "test/config.json");
    ADD_FAILURE() << "accepted a config that should be rejected (" << fragment << ")";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("test/config.json"), std::string::npos) << error.what();
  }
}

TEST(ModelConfig, ParsesStories260K) {
  auto config = ModelConfig::load(testing::model_dir("stories260K"));
  EXPECT_EQ(config.architecture, Architecture::kLlama);
  EXPECT_EQ(config.hidden_size, 64);
  EXPECT_EQ(config.num_hidden_layers, 5);
  EXPECT_EQ(config.num_attention_heads, 8);
  EXPECT_EQ(config.num_key_value_heads, 4);
  EXPECT_EQ(config.head_dim, 8);
  EXPECT_EQ(config.intermediate_size, 172);
  EXPECT_EQ(config.vocab_size, 512);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-5);
  EXPECT_FALSE(config.moe.has_value());
}

TEST(ModelConfig, ParsesMixtral) {
  auto config = ModelConfig::load(testing::model_dir("tiny-mixtral"));
  EXPECT_EQ(config.architecture, Architecture::kMixtral);
  ASSERT_TRUE(config.moe.has_value());
  EXPECT_EQ(config.moe->num_experts, 8);
  EXPECT_EQ(config.moe->num_experts_per_tok, 2);
  EXPECT_EQ(config.moe->expert_intermediate_size, 224);
  EXPECT_TRUE(config.moe->norm_topk_prob);
  EXPECT_DOUBLE_EQ(config.rope_theta, 1e6);
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    EXPECT_TRUE(config.is_moe_layer(layer));
  }
}

TEST(ModelConfig, ParsesDeepseekMoe) {
  auto config = ModelConfig::load(testing::model_dir("tiny-deepseek-moe"));
  EXPECT_EQ(config.architecture, Architecture::kDeepseek);
  ASSERT_TRUE(config.moe.has_value());
  EXPECT_EQ(config.moe->num_experts, 16);
  EXPECT_EQ(config.moe->num_experts_per_tok, 4);
  EXPECT_EQ(config.moe->num_shared_experts, 2);
  EXPECT_EQ(config.moe->expert_intermediate_size, 88);
  EXPECT_FALSE(config.moe->norm_topk_prob);
  EXPECT_EQ(config.intermediate_size, 1368);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-6);
  EXPECT_FALSE(config.is_moe_layer(0));
  EXPECT_TRUE(config.is_moe_layer(1));
  EXPECT_TRUE(config.is_moe_layer(3));
}

TEST(ModelConfig, MoeLayerFrequency) {
  auto config = read_config("tiny-deepseek-moe");
  config["num_hidden_layers"] = 6;
  config["moe_layer_freq"] = 2;
  auto parsed = ModelConfig::from_json(config, "test/config.json");
  EXPECT_FALSE(parsed.is_moe_layer(0));
  EXPECT_FALSE(parsed.is_moe_layer(1));
  EXPECT_TRUE(parsed.is_moe_layer(2));
  EXPECT_FALSE(parsed.is_moe_layer(3));
  EXPECT_TRUE(parsed.is_moe_layer(4));
}

TEST(ModelConfig, RopeScalingVariants) {
  auto config = read_config("tiny-llama-5m");
  config["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  auto linear = ModelConfig::from_json(config, "test/config.json");
  EXPECT_EQ(linear.rope_scaling.type, model::RopeScaling::Type::kLinear);
  EXPECT_DOUBLE_EQ(linear.rope_scaling.factor, 4.0);

  config["rope_scaling"] = {{"rope_type", "llama3"},
                            {"factor", 8.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0},
                            {"original_max_position_embeddings", 8192}};
  auto llama3 = ModelConfig::from_json(config, "test/config.json");
  EXPECT_EQ(llama3.rope_scaling.type, model::RopeScaling::Type::kLlama3);
  EXPECT_EQ(llama3.rope_scaling.original_max_position_embeddings, 8192);

  config["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  expect_rejected(config, "rope_scaling type \"yarn\" is not supported");
}

TEST(ModelConfig, RejectsUnsupportedModelType) {
  auto config = read_config("tiny-llama-5m");
  config["model_type"] = "gpt2";
  expect_rejected(config, "model_type \"gpt2\" is not supported; supported: llama");
}

TEST(ModelConfig, RejectsMismatchedArchitecture) {
  auto config = read_config("tiny-llama-5m");
  config["architectures"] = {"Qwen2ForCausalLM"};
  expect_rejected(config, "expected LlamaForCausalLM");
}

TEST(ModelConfig, RejectsMoreExpertsPerTokenThanExperts) {
  auto config = read_config("tiny-mixtral");
  config["num_experts_per_tok"] = 9;
  expect_rejected(config, "num_experts_per_tok (9) must be between 1 and the number of experts (8)");

  auto deepseek = read_config("tiny-deepseek-moe");
  deepseek["num_experts_per_tok"] = 17;
  expect_rejected(deepseek, "num_experts_per_tok (17) must be between 1 and the number of experts (16)");
}

TEST(ModelConfig, RejectsInconsistentMoeKeys) {
  auto config = read_config("tiny-deepseek-moe");
  config["first_k_dense_replace"] = 9;
  expect_rejected(config, "first_k_dense_replace (9) must be between 0 and num_hidden_layers (4)");

  config = read_config("tiny-deepseek-moe");
  config["moe_layer_freq"] = 0;
  expect_rejected(config, "moe_layer_freq must be at least 1");

  config = read_config("tiny-deepseek-moe");
  config["scoring_func"] = "sigmoid";
  expect_rejected(config, "scoring_func \"sigmoid\" is not supported");
}

TEST(ModelConfig, RejectsBadHeadCounts) {
  auto config = read_config("stories260K");
  config["num_key_value_heads"] = 3;
  expect_rejected(config, "must be a multiple of num_key_value_heads (3)");
}

TEST(ModelConfig, RejectsMissingAndMistypedKeys) {
  auto config = read_config("stories260K");
  config.erase("hidden_size");
  expect_rejected(config, "required key \"hidden_size\" is missing");

  config = read_config("stories260K");
  config["vocab_size"] = "512";
  expect_rejected(config, "\"vocab_size\" must be an integer");

  config = read_config("stories260K");
  config["num_hidden_layers"] = 0;
  expect_rejected(config, "\"num_hidden_layers\" must be positive");
}

TEST(ModelConfig, LoadReportsInvalidJson) {
  auto dir = testing::make_temp_dir("dq-config");
  testing::write_file(dir / "config.json", "{\"model_type\": \"llama\",");
  try {
    ModelConfig::load(dir);
    ADD_FAILURE() << "accepted invalid JSON";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("invalid JSON"), std::string::npos) << error.what();
  }
  std::filesystem::remove_all(dir);
}

// Found by fuzz/fuzz_config.cpp: nlohmann::json raises out_of_range, not parse_error, for a
// number beyond the range of a double, and it escaped load().
TEST(ModelConfig, LoadRejectsNumberOverflow) {
  auto dir = testing::make_temp_dir("dq-config");
  testing::write_file(dir / "config.json", "{\"rope_theta\": 73E7777}");
  try {
    ModelConfig::load(dir);
    ADD_FAILURE() << "accepted a number beyond the range of a double";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find((dir / "config.json").string()), std::string::npos) << message;
    EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
    EXPECT_NE(message.find("number overflow"), std::string::npos) << message;
  }
  std::filesystem::remove_all(dir);
}

TEST(ModelConfig, LoadReportsMissingFile) {
  auto dir = testing::make_temp_dir("dq-config");
  EXPECT_THROW(ModelConfig::load(dir), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
