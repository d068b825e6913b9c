#include "dartquant/calibration/dartquant_settings.h"

#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"

namespace dartquant::calibration {
namespace {

const std::vector<std::string> kOptimizerFields{"optimizer", "learning_rate", "momentum",
                                                "epochs",    "batch",         "accumulation"};
const std::vector<std::string> kSettingsFields{"r1", "r2", "r1_fraction", "r1_lr_sweep"};
const std::vector<std::string> kPresetFields{"name", "match", "r1", "r2", "r1_fraction", "r1_lr_sweep"};
const std::vector<std::string> kMatchFields{"model_type", "hidden_size", "num_hidden_layers", "vocab_size"};

/// Overwrites the fields of `settings` that `reader` has.
void read_optimizer(const FieldReader& reader, OptimizerSettings& settings) {
  if (reader.has("optimizer")) {
    settings.optimizer = reader.string("optimizer");
  }
  if (reader.has("learning_rate")) {
    settings.learning_rate = reader.number("learning_rate");
  }
  if (reader.has("momentum")) {
    settings.momentum = reader.number("momentum");
  }
  if (reader.has("epochs")) {
    settings.epochs = reader.integer("epochs");
  }
  if (reader.has("batch")) {
    settings.batch = reader.integer("batch");
  }
  if (reader.has("accumulation")) {
    settings.accumulation = reader.integer("accumulation");
  }
}

void read_settings(const FieldReader& reader, DartQuantSettings& settings) {
  if (reader.has("r1")) {
    read_optimizer(reader.object("r1", kOptimizerFields), settings.r1);
  }
  if (reader.has("r2")) {
    read_optimizer(reader.object("r2", kOptimizerFields), settings.r2);
  }
  if (reader.has("r1_fraction")) {
    settings.r1_fraction = reader.number("r1_fraction");
  }
  if (reader.has("r1_lr_sweep")) {
    settings.r1_lr_sweep = reader.numbers("r1_lr_sweep");
  }
}

bool matches(const FieldReader& match, const model::ModelConfig& config) {
  if (match.has("model_type") && match.string("model_type") != config.model_type) {
    return false;
  }
  if (match.has("hidden_size") && match.integer("hidden_size") != config.hidden_size) {
    return false;
  }
  if (match.has("num_hidden_layers") && match.integer("num_hidden_layers") != config.num_hidden_layers) {
    return false;
  }
  return !match.has("vocab_size") || match.integer("vocab_size") == config.vocab_size;
}

}  // namespace

nlohmann::json DartQuantSettings::to_json() const {
  return {{"preset", preset},
          {"r1", r1.to_json()},
          {"r2", r2.to_json()},
          {"r1_fraction", r1_fraction},
          {"r1_lr_sweep", r1_lr_sweep}};
}

DartQuantSettings load_dartquant_settings(const std::filesystem::path& file, const model::ModelConfig& config) {
  DQ_CHECK(std::filesystem::is_regular_file(file), file.string(),
           ": DartQuant settings file not found; set DARTQUANT_CONFIGS to the configs folder");
  auto parsed = read_json_file(file);
  FieldReader root(parsed, file.string(), "", {"description", "defaults", "presets"});

  DartQuantSettings settings;
  read_settings(root.object("defaults", kSettingsFields), settings);

  const auto& presets = root.require("presets");
  DQ_CHECK(presets.is_array(), file.string(), ": field \"presets\" must be an array");
  for (size_t i = 0; i < presets.size(); ++i) {
    FieldReader preset(presets[i], file.string(), "presets[" + std::to_string(i) + "]", kPresetFields);
    if (matches(preset.object("match", kMatchFields), config)) {
      settings.preset = preset.string("name");
      read_settings(preset, settings);
      break;
    }
  }

  validate(settings.r1, "R1");
  validate(settings.r2, "R2");
  DQ_CHECK(settings.r1_fraction > 0 && settings.r1_fraction <= 1, file.string(), ": r1_fraction ",
           settings.r1_fraction, " must be in (0, 1]");
  return settings;
}

}  // namespace dartquant::calibration
