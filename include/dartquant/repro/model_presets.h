// Model presets (configs/models.json): `--model mixtral` names a Hugging Face
// repository, and the model is found in a local folder.
//
// Lookup order for a preset: $DARTQUANT_MODELS/<name>, then the Hugging Face
// cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub:
// models--<org>--<name>/snapshots/<revision>/, the revision of refs/main when
// present), then, for the shared test models, <data dir>/models/<name>. An
// existing folder given to --model is used as it is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dartquant::repro {

struct ModelPreset {
  std::string name;                  ///< e.g. "mixtral"
  std::vector<std::string> aliases;  ///< e.g. "mixtral-8x7b"
  std::string repository;            ///< Hugging Face id, e.g. "mistralai/Mixtral-8x7B-v0.1"; empty for data models
  std::string data_model;            ///< folder under <data dir>/models for the shared test models
  std::string reference_table;       ///< table to compare with, relative to configs/ (may be empty)
  int64_t nsamples = 128;            ///< calibration windows
  int64_t seqlen = 2048;             ///< calibration window length in tokens
};

/// Reads every preset of `configs_dir`/models.json. Throws dartquant::Error
/// naming the file and field for an invalid file.
std::vector<ModelPreset> load_presets(const std::filesystem::path& configs_dir);

/// The preset called `name` or with `name` as an alias (case-insensitive), or nullopt.
std::optional<ModelPreset> find_preset(const std::vector<ModelPreset>& presets, const std::string& name);

/// A model folder found for --model.
struct ResolvedModel {
  std::filesystem::path dir;
  std::optional<ModelPreset> preset;
};

/// Resolves --model `text`: an existing folder with config.json, else a preset
/// looked up as described at the top of this file (`data_dir` may be empty).
/// Throws dartquant::UsageError for a name that is neither, and
/// dartquant::Error for a preset not found locally, listing every place
/// looked and the command that downloads it.
ResolvedModel resolve_model(const std::string& text, const std::filesystem::path& configs_dir,
                            const std::filesystem::path& data_dir);

}  // namespace dartquant::repro
