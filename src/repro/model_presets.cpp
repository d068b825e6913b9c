#include "dartquant/repro/model_presets.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"

namespace dartquant::repro {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool is_model_folder(const std::filesystem::path& dir) { return std::filesystem::is_regular_file(dir / "config.json"); }

/// Returns the Hugging Face hub cache folder.
std::filesystem::path hub_cache() {
  if (!environment("HF_HUB_CACHE").empty()) {
    return environment("HF_HUB_CACHE");
  }
  if (!environment("HF_HOME").empty()) {
    return std::filesystem::path(environment("HF_HOME")) / "hub";
  }
  return std::filesystem::path(environment("HOME")) / ".cache" / "huggingface" / "hub";
}

/// Finds the snapshot of `repository` in the hub cache: the revision refs/main
/// points to, else the only (or last, by name) snapshot. Empty if none.
std::filesystem::path cached_snapshot(const std::string& repository, std::vector<std::string>& looked) {
  // "mistralai/Mixtral-8x7B-v0.1" is cached as models--mistralai--Mixtral-8x7B-v0.1.
  auto slash = repository.find('/');
  auto folder = "models--" + repository.substr(0, slash) + "--" + repository.substr(slash + 1);
  auto root = hub_cache() / folder;
  auto snapshots = root / "snapshots";
  looked.push_back((snapshots / "<revision>").string());

  std::ifstream ref(root / "refs" / "main");
  std::string revision;
  if (ref >> revision && is_model_folder(snapshots / revision)) {
    return snapshots / revision;
  }
  std::vector<std::filesystem::path> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(snapshots, error)) {
    if (is_model_folder(entry.path())) {
      found.push_back(entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  return found.empty() ? std::filesystem::path() : found.back();
}

}  // namespace

std::vector<ModelPreset> load_presets(const std::filesystem::path& configs_dir) {
  auto path = configs_dir / "models.json";
  auto document = read_json_file(path);
  FieldReader file(document, path.string(), "", {"description", "presets"});
  const auto& presets_json = file.require("presets");
  DQ_CHECK(presets_json.is_object(), path.string(), ": field \"presets\" must be an object");

  std::vector<ModelPreset> presets;
  for (const auto& [name, entry] : presets_json.items()) {
    FieldReader reader(entry, path.string(), "presets." + name,
                       {"repository", "aliases", "data_model", "reference_table", "calibration"});
    ModelPreset preset;
    preset.name = name;
    if (reader.has("repository")) {
      preset.repository = reader.string("repository");
      DQ_CHECK(preset.repository.find('/') != std::string::npos, path.string(), ": field \"",
               reader.path("repository"), "\" must be <organization>/<name>, got ", preset.repository);
    }
    if (reader.has("data_model")) {
      preset.data_model = reader.string("data_model");
    }
    DQ_CHECK(!preset.repository.empty() || !preset.data_model.empty(), path.string(), ": preset \"", name,
             "\" needs a \"repository\" or a \"data_model\"");
    if (reader.has("aliases")) {
      for (const auto& alias : reader.require("aliases")) {
        DQ_CHECK(alias.is_string(), path.string(), ": field \"", reader.path("aliases"), "\" must hold strings");
        preset.aliases.push_back(alias.get<std::string>());
      }
    }
    if (reader.has("reference_table")) {
      preset.reference_table = reader.string("reference_table");
    }
    FieldReader calibration(reader.require("calibration"), path.string(), reader.path("calibration"),
                            {"nsamples", "seqlen"});
    preset.nsamples = calibration.integer("nsamples");
    preset.seqlen = calibration.integer("seqlen");
    DQ_CHECK(preset.nsamples > 0 && preset.seqlen > 0, path.string(), ": ", reader.path("calibration"),
             " needs positive nsamples and seqlen");
    presets.push_back(std::move(preset));
  }
  return presets;
}

std::optional<ModelPreset> find_preset(const std::vector<ModelPreset>& presets, const std::string& name) {
  auto key = lower(name);
  for (const auto& preset : presets) {
    if (lower(preset.name) == key) {
      return preset;
    }
    for (const auto& alias : preset.aliases) {
      if (lower(alias) == key) {
        return preset;
      }
    }
  }
  return std::nullopt;
}

ResolvedModel resolve_model(const std::string& text, const std::filesystem::path& configs_dir,
                            const std::filesystem::path& data_dir) {
  std::filesystem::path given(text);
  if (is_model_folder(given)) {
    return {given, std::nullopt};
  }
  auto presets = load_presets(configs_dir);
  auto preset = find_preset(presets, text);
  if (!preset) {
    std::string names;
    for (const auto& candidate : presets) {
      names += (names.empty() ? "" : ", ") + candidate.name;
    }
    throw UsageError(str("--model ", text, ": not a model folder (no config.json there) and not a preset; presets: ",
                         names, " (configs/models.json)"));
  }

  std::vector<std::string> looked;
  auto models_root = environment("DARTQUANT_MODELS");
  if (!models_root.empty()) {
    auto dir = std::filesystem::path(models_root) / preset->name;
    looked.push_back(dir.string() + (std::filesystem::exists(dir) ? " (exists, but has no config.json)" : ""));
    if (is_model_folder(dir)) {
      return {dir, preset};
    }
  } else {
    looked.push_back("$DARTQUANT_MODELS/" + preset->name + " (DARTQUANT_MODELS is not set)");
  }
  if (!preset->repository.empty()) {
    auto snapshot = cached_snapshot(preset->repository, looked);
    if (!snapshot.empty()) {
      return {snapshot, preset};
    }
  }
  if (!preset->data_model.empty() && !data_dir.empty()) {
    auto dir = data_dir / "models" / preset->data_model;
    looked.push_back(dir.string());
    if (is_model_folder(dir)) {
      return {dir, preset};
    }
  }

  std::string places;
  for (const auto& place : looked) {
    places += "\n  " + place;
  }
  std::string remedy =
      preset->repository.empty()
          ? "pass --data-dir (or set DARTQUANT_DATA) to the shared data folder that contains models/" +
                preset->data_model
          : models_root.empty()
                ? "download it into the Hugging Face cache with:\n  huggingface-cli download " + preset->repository
                : "download it with:\n  huggingface-cli download " + preset->repository + " --local-dir " +
                      models_root + "/" + preset->name;
  throw Error(str("model preset ", preset->name, " (", preset->repository.empty() ? preset->data_model : preset->repository,
                  ") not found; looked in:", places, "\n", remedy));
}

}  // namespace dartquant::repro
