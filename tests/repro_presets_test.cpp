// Model presets: lookup in $DARTQUANT_MODELS, the Hugging Face cache layout and
// the shared data folder, and the message when a model is not found.
#include <cstdlib>

#include <gtest/gtest.h>

#include "dartquant/core/error.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/repro/model_presets.h"
#include "test_support.h"

namespace dartquant {
namespace {

/// Sets environment variables for one test and restores them afterwards.
class ScopedEnvironment {
 public:
  void set(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
    ::unsetenv(name.c_str());
  }
  ~ScopedEnvironment() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

void make_model_folder(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  testing::write_file(dir / "config.json", "{}");
}

TEST(ModelPresets, ShippedPresetsLoad) {
  auto presets = repro::load_presets(quant::locate_configs_dir());
  auto mixtral = repro::find_preset(presets, "Mixtral-8x7B");
  ASSERT_TRUE(mixtral.has_value());
  EXPECT_EQ(mixtral->repository, "mistralai/Mixtral-8x7B-v0.1");
  EXPECT_EQ(mixtral->reference_table, "paper/mixtral-8x7b.json");
  EXPECT_TRUE(repro::find_preset(presets, "deepseek-moe").has_value());
  EXPECT_FALSE(repro::find_preset(presets, "gpt-2").has_value());
}

TEST(ModelPresets, FindsModelsFolderThenHubCache) {
  auto dir = testing::make_temp_dir("presets");
  ScopedEnvironment environment;
  environment.set("DARTQUANT_MODELS", (dir / "models").string());
  environment.set("HF_HUB_CACHE", (dir / "hub").string());
  auto configs = quant::locate_configs_dir();

  // Hugging Face cache: the revision refs/main names.
  auto repo = dir / "hub" / "models--mistralai--Mixtral-8x7B-v0.1";
  make_model_folder(repo / "snapshots" / "aaa");
  make_model_folder(repo / "snapshots" / "bbb");
  std::filesystem::create_directories(repo / "refs");
  testing::write_file(repo / "refs" / "main", "aaa");
  auto cached = repro::resolve_model("mixtral", configs, {});
  EXPECT_EQ(cached.dir, repo / "snapshots" / "aaa");
  ASSERT_TRUE(cached.preset.has_value());
  EXPECT_EQ(cached.preset->name, "mixtral");

  // $DARTQUANT_MODELS/<name> comes first.
  make_model_folder(dir / "models" / "mixtral");
  EXPECT_EQ(repro::resolve_model("mixtral", configs, {}).dir, dir / "models" / "mixtral");

  // An explicit folder is used as it is.
  EXPECT_EQ(repro::resolve_model((dir / "models" / "mixtral").string(), configs, {}).dir, dir / "models" / "mixtral");
  std::filesystem::remove_all(dir);
}

TEST(ModelPresets, MissingModelListsPlacesAndDownloadCommand) {
  auto dir = testing::make_temp_dir("presets-missing");
  ScopedEnvironment environment;
  environment.set("DARTQUANT_MODELS", (dir / "models").string());
  environment.set("HF_HUB_CACHE", (dir / "hub").string());
  try {
    repro::resolve_model("deepseek-moe", quant::locate_configs_dir(), {});
    ADD_FAILURE() << "expected an error";
  } catch (const UsageError& error) {
    ADD_FAILURE() << "expected a runtime error, got a usage error: " << error.what();
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find((dir / "models" / "deepseek-moe").string()), std::string::npos) << message;
    EXPECT_NE(message.find("models--deepseek-ai--deepseek-moe-16b-base"), std::string::npos) << message;
    EXPECT_NE(message.find("huggingface-cli download deepseek-ai/deepseek-moe-16b-base --local-dir"),
              std::string::npos)
        << message;
  }
  EXPECT_THROW(repro::resolve_model("no-such-model", quant::locate_configs_dir(), {}), UsageError);
  std::filesystem::remove_all(dir);
}

TEST(ModelPresets, SharedTestModelsResolveFromTheDataFolder) {
  ScopedEnvironment environment;
  environment.unset("DARTQUANT_MODELS");
  auto resolved = repro::resolve_model("tiny-mixtral", quant::locate_configs_dir(), testing::data_dir());
  EXPECT_EQ(resolved.dir, testing::model_dir("tiny-mixtral"));
}

}  // namespace
}  // namespace dartquant
