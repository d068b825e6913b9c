// Quantization profiles: the shipped files, validation errors, --bits and --set.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/quant/profile.h"
#include "test_support.h"

namespace dartquant::quant {
namespace {

using nlohmann::json;

std::filesystem::path configs_dir() {
  return std::filesystem::path(DARTQUANT_SOURCE_DIR) / "configs";
}

json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

/// Writes `text` as <temp dir>/<name> and expects load_profile to throw an
/// Error whose message names the file and contains every fragment.
void expect_load_error(const std::string& text, const std::vector<std::string>& fragments) {
  const auto dir = testing::make_temp_dir("dq-profile");
  const auto path = dir / "custom.json";
  testing::write_file(path, text);
  try {
    load_profile(path.string(), configs_dir());
    ADD_FAILURE() << "accepted an invalid profile: " << text;
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    for (const auto& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos) << "missing \"" << fragment << "\" in: " << message;
    }
  }
  std::filesystem::remove_all(dir);
}

/// configs/profiles/paper.json with one field replaced, for error tests.
std::string paper_with(const std::string& object, const std::string& field, const json& value) {
  json document = read_json(configs_dir() / "profiles" / "paper.json");
  if (object.empty()) {
    document[field] = value;
  } else {
    document[object][field] = value;
  }
  return document.dump(2);
}

/// Sets an environment variable for one scope and restores the old value.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      previous_ = old;
    }
    set(value);
  }
  ~ScopedEnvironment() { set(previous_); }

 private:
  void set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> previous_;
};

TEST(ProfileFiles, PaperMatchesTheMethod) {
  QuantProfile p = load_profile("paper", configs_dir());
  EXPECT_EQ(p.name, "paper");

  EXPECT_EQ(p.weights.spec.bits, 4);
  EXPECT_TRUE(p.weights.spec.symmetric);
  EXPECT_EQ(p.weights.spec.group_size, 128);
  EXPECT_EQ(p.weights.spec.clip_ratio, 1.0);
  EXPECT_TRUE(p.weights.mse_clip);
  EXPECT_EQ(p.weights.mse_norm, 2.4);
  EXPECT_EQ(p.weights.shrink_min, 0.21);
  EXPECT_EQ(p.weights.shrink_step, 0.01);
  EXPECT_EQ(shrink_candidates(p.weights).size(), 80U);

  EXPECT_EQ(p.gptq.damp_fraction, 0.1);
  EXPECT_EQ(p.gptq.block_size, 128);

  EXPECT_EQ(p.activations.bits, 4);
  EXPECT_FALSE(p.activations.symmetric);
  EXPECT_EQ(p.activations.group_size, 0);
  EXPECT_EQ(p.activations.clip_ratio, 0.9);
  EXPECT_TRUE(p.o_proj_per_head_under_offline_r2);

  for (const QuantSpec& kv : {p.key, p.value}) {
    EXPECT_EQ(kv.bits, 4);
    EXPECT_FALSE(kv.symmetric);
    EXPECT_EQ(kv.group_size, kHeadDimGroup);
    EXPECT_EQ(kv.clip_ratio, 1.0);
  }
  EXPECT_EQ(p.keep_full_precision, (std::vector<std::string>{"embeddings", "lm_head", "routers"}));
  EXPECT_TRUE(p.keeps_full_precision("routers"));
}

TEST(ProfileFiles, QuarotPaperMatchesTheMethod) {
  QuantProfile p = load_profile("quarot-paper", configs_dir());
  EXPECT_EQ(p.name, "quarot-paper");

  EXPECT_EQ(p.weights.spec.bits, 4);
  EXPECT_TRUE(p.weights.spec.symmetric);
  EXPECT_EQ(p.weights.spec.group_size, 0);
  EXPECT_TRUE(p.weights.mse_clip);
  EXPECT_EQ(p.weights.mse_norm, 2.4);
  EXPECT_EQ(p.gptq.damp_fraction, 0.01);

  EXPECT_EQ(p.activations.bits, 4);
  EXPECT_TRUE(p.activations.symmetric);
  EXPECT_EQ(p.activations.group_size, 0);
  EXPECT_EQ(p.activations.clip_ratio, 0.9);

  for (const QuantSpec& kv : {p.key, p.value}) {
    EXPECT_EQ(kv.bits, 4);
    EXPECT_FALSE(kv.symmetric);
    EXPECT_EQ(kv.group_size, kHeadDimGroup);
    EXPECT_EQ(kv.clip_ratio, 0.95);
  }
  EXPECT_EQ(p.keep_full_precision, (std::vector<std::string>{"embeddings", "lm_head", "routers"}));
}

TEST(ProfileFiles, LoadsByPathAndRoundTrips) {
  const auto dir = testing::make_temp_dir("dq-profile");
  const auto path = dir / "mine.json";
  QuantProfile original = load_profile("paper", configs_dir());
  testing::write_file(path, profile_to_json(original).dump(2));

  QuantProfile copy = load_profile(path.string(), configs_dir());
  EXPECT_EQ(profile_to_json(copy), profile_to_json(original));
  EXPECT_EQ(profile_to_json(original), read_json(configs_dir() / "profiles" / "paper.json"));
  std::filesystem::remove_all(dir);
}

TEST(ProfileFiles, UnknownNameIsAUsageError) {
  try {
    load_profile("papr", configs_dir());
    ADD_FAILURE() << "an unknown profile name was accepted";
  } catch (const UsageError& error) {
    EXPECT_NE(std::string(error.what()).find("papr"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("quarot-paper"), std::string::npos) << error.what();
  }
}

TEST(ProfileErrors, NameTheFileAndField) {
  expect_load_error("{ \"name\": \"x\", ", {"invalid JSON"});
  expect_load_error("[1, 2]", {"JSON object"});
  expect_load_error(paper_with("weights", "colour", 3), {"weights.colour", "unknown field"});
  expect_load_error(paper_with("", "extra", true), {"\"extra\"", "unknown field"});
  expect_load_error(paper_with("weights", "bits", "4"), {"weights.bits", "integer"});
  expect_load_error(paper_with("activations", "symmetric", 1), {"activations.symmetric", "true or false"});
  expect_load_error(paper_with("gptq", "damp_fraction", "0.1"), {"gptq.damp_fraction", "number"});
  expect_load_error(paper_with("weights", "bits", 9), {"weights", "bits", "9"});
  expect_load_error(paper_with("key", "bits", 1), {"key", "bits", "1"});
  expect_load_error(paper_with("activations", "clip_ratio", 1.5), {"activations", "clip_ratio", "1.5"});
  expect_load_error(paper_with("weights", "group_size", -4), {"weights", "group_size", "-4"});
  expect_load_error(paper_with("weights", "group_size", "head_dim"), {"weights.group_size", "integer"});
  expect_load_error(paper_with("value", "group_size", "per_head"), {"value.group_size", "head_dim"});
  expect_load_error(paper_with("gptq", "block_size", 0), {"gptq", "block_size"});
  expect_load_error(paper_with("weights", "shrink_min", 0.0), {"weights", "shrink_min"});
  expect_load_error(paper_with("", "keep_full_precision", json::array({"embeddings", "norms"})),
                    {"keep_full_precision", "norms"});
  expect_load_error(paper_with("", "o_proj_per_head_under_offline_r2", "yes"),
                    {"o_proj_per_head_under_offline_r2", "true or false"});

  json missing = read_json(configs_dir() / "profiles" / "paper.json");
  missing["gptq"].erase("block_size");
  expect_load_error(missing.dump(), {"gptq.block_size", "missing"});
}

TEST(ProfileBits, ParsesValidSettings) {
  EXPECT_EQ(parse_bits("4-4-4"), std::make_tuple(4, 4, 4));
  EXPECT_EQ(parse_bits("4-4-16"), std::make_tuple(4, 4, 16));
  EXPECT_EQ(parse_bits("16-16-16"), std::make_tuple(16, 16, 16));
  EXPECT_EQ(parse_bits("3-8-2"), std::make_tuple(3, 8, 2));
}

TEST(ProfileBits, RejectsInvalidSettings) {
  for (const std::string text : {"", "4-4", "4-4-4-4", "a-4-4", "4-4-9", "1-4-4", "4--4", "4-4-", "-4-4-4", "4-4-4 ",
                                 "4.0-4-4", "4-4-99999999999"}) {
    SCOPED_TRACE("\"" + text + "\"");
    try {
      parse_bits(text);
      ADD_FAILURE() << "accepted";
    } catch (const UsageError& error) {
      EXPECT_NE(std::string(error.what()).find("\"" + text + "\""), std::string::npos) << error.what();
    }
  }
}

TEST(ProfileBits, ApplySetsEveryQuantizer) {
  QuantProfile p = load_profile("paper", configs_dir());
  auto [w, a, kv] = parse_bits("3-8-16");
  apply_bits(p, w, a, kv);
  EXPECT_EQ(p.weights.spec.bits, 3);
  EXPECT_EQ(p.activations.bits, 8);
  EXPECT_EQ(p.key.bits, 16);
  EXPECT_EQ(p.value.bits, 16);
  EXPECT_FALSE(p.key.enabled());
  EXPECT_THROW(apply_bits(p, 4, 12, 4), UsageError);
}

TEST(ProfileOverrides, SetLeafFields) {
  QuantProfile p = load_profile("paper", configs_dir());
  apply_override(p, "weights.group_size=64");
  apply_override(p, "gptq.damp_fraction=0.05");
  apply_override(p, "activations.symmetric=true");
  apply_override(p, "key.group_size=32");
  apply_override(p, "value.clip_ratio=0.95");
  apply_override(p, "keep_full_precision=embeddings,lm_head");
  apply_override(p, "o_proj_per_head_under_offline_r2=false");
  apply_override(p, "weights.mse_clip=false");

  EXPECT_EQ(p.weights.spec.group_size, 64);
  EXPECT_EQ(p.gptq.damp_fraction, 0.05);
  EXPECT_TRUE(p.activations.symmetric);
  EXPECT_EQ(p.key.group_size, 32);
  EXPECT_EQ(p.value.clip_ratio, 0.95);
  EXPECT_EQ(p.keep_full_precision, (std::vector<std::string>{"embeddings", "lm_head"}));
  EXPECT_FALSE(p.o_proj_per_head_under_offline_r2);
  EXPECT_FALSE(p.weights.mse_clip);

  apply_override(p, "key.group_size=head_dim");
  apply_override(p, "keep_full_precision=");
  EXPECT_EQ(p.key.group_size, kHeadDimGroup);
  EXPECT_TRUE(p.keep_full_precision.empty());
}

TEST(ProfileOverrides, RejectInvalidAssignments) {
  QuantProfile p = load_profile("paper", configs_dir());
  const std::string cases[][2] = {
      {"weights.group_sizes=64", "weights.group_sizes"}, {"weights=3", "not a single field"},
      {"weights.bits", "field=value"},                   {"=4", "field=value"},
      {"weights.bits=9", "bits"},                        {"weights.bits=four", "integer"},
      {"activations.group_size=head_dim", "integer"},    {"keep_full_precision=norms", "norms"},
  };
  for (const auto& [assignment, fragment] : cases) {
    SCOPED_TRACE(assignment);
    try {
      apply_override(p, assignment);
      ADD_FAILURE() << "accepted";
    } catch (const UsageError& error) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find(assignment), std::string::npos) << error.what();
    }
  }
  // A rejected assignment leaves the profile unchanged.
  EXPECT_EQ(profile_to_json(p), read_json(configs_dir() / "profiles" / "paper.json"));
}

TEST(ProfileOverrides, ListsEveryLeafField) {
  std::vector<std::string> fields = override_fields();
  for (const char* field : {"weights.bits", "weights.shrink_step", "gptq.max_damping_retries", "activations.clip_ratio",
                            "o_proj_per_head_under_offline_r2", "key.group_size", "value.symmetric",
                            "keep_full_precision"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), field), fields.end()) << field;
  }
}

TEST(ProfileHeadGroups, ResolveToHeadDim) {
  QuantSpec spec;
  spec.group_size = kHeadDimGroup;
  EXPECT_EQ(resolve_head_groups(spec, 128).group_size, 128);
  spec.group_size = 64;
  EXPECT_EQ(resolve_head_groups(spec, 128).group_size, 64);
}

TEST(ProfileConfigsDir, EnvironmentThenBuildTree) {
  const auto dir = testing::make_temp_dir("dq-configs");
  {
    ScopedEnvironment environment("DARTQUANT_CONFIGS", dir.string());
    EXPECT_EQ(locate_configs_dir(), dir);
  }
  {
    ScopedEnvironment environment("DARTQUANT_CONFIGS", (dir / "missing").string());
    EXPECT_THROW(locate_configs_dir(), Error);
  }
  {
    ScopedEnvironment environment("DARTQUANT_CONFIGS", std::nullopt);
    const auto found = locate_configs_dir();
    EXPECT_TRUE(std::filesystem::is_regular_file(found / "profiles" / "paper.json")) << found;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant::quant
