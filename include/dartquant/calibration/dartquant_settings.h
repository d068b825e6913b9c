// DartQuant's calibration settings: defaults and per-model presets from
// configs/dartquant.json, then command-line overrides.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dartquant/calibration/rotation_trainer.h"
#include "dartquant/model/config.h"

namespace dartquant::calibration {

struct DartQuantSettings {
  std::string preset = "defaults";  ///< name of the matched preset
  OptimizerSettings r1;                                 ///< METHOD.md: SGD, lr per model, batch 64
  OptimizerSettings r2{"sgd", 0.001, 0.9, 10, 64, 2};  ///< METHOD.md: lr 0.001, batch 64, accumulation 2
  double r1_fraction = 0.1;          ///< share of (sequence, layer, site) chunks R1 trains on
  std::vector<double> r1_lr_sweep;   ///< R1 learning rates to try (best final Whip loss wins); empty: none

  nlohmann::json to_json() const;
};

/// Reads `file` (configs/dartquant.json) and returns its defaults merged with
/// the first preset whose "match" fields all equal `config`'s (model_type,
/// hidden_size, num_hidden_layers, vocab_size). Throws dartquant::Error
/// naming the file and field for malformed content.
DartQuantSettings load_dartquant_settings(const std::filesystem::path& file, const model::ModelConfig& config);

}  // namespace dartquant::calibration
