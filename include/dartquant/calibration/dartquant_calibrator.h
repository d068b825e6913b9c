// DartQuant calibration: one streamed pass over the preprocessed FP model,
// layer by layer. Each layer's o_proj inputs train its R2 at once and are
// then dropped. A seeded subset of the q_proj and MLP/MoE-block input chunks
// is kept (spilled to disk beyond a memory budget) and trains R1 after the
// last layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "dartquant/calibration/dartquant_settings.h"
#include "dartquant/calibration/rotation_trainer.h"
#include "dartquant/calibration/rotations_file.h"
#include "dartquant/model/causal_lm.h"

namespace dartquant::calibration {

struct CalibrationOptions {
  DartQuantSettings settings;
  uint64_t seed = 0;       ///< R1 subset, Hadamard starts, shuffles
  int64_t batch_size = 8;  ///< calibration windows per forward pass
  int64_t max_memory = 0;  ///< bytes of R1 chunks kept in memory before spilling to disk
  /// Folder of the resumable state (finished R2s) and of spill files; empty:
  /// not resumable, spill files in the system's temporary folder.
  std::filesystem::path state_dir;
  /// JSON text of everything that determines the result (model, data,
  /// settings); a state folder written for another identity is not reused.
  std::string identity;
};

/// Summary of a calibration run, for logs and the results JSON.
struct CalibrationReport {
  struct LayerR2 {
    int64_t layer = 0;
    RotationStats initial;
    RotationStats trained;
    double seconds = 0;
    bool resumed = false;  ///< taken from the state folder, not trained in this run
  };
  std::vector<LayerR2> r2;
  RotationStats r1_initial;
  RotationStats r1_trained;
  std::vector<double> r1_epoch_loss;
  double r1_learning_rate = 0;
  std::vector<std::pair<double, double>> r1_sweep;  ///< (learning rate, final Whip) per candidate
  int64_t r1_chunks = 0;
  int64_t r1_bytes_in_memory = 0;
  int64_t r1_bytes_on_disk = 0;
  double collection_seconds = 0;
  double optimization_seconds = 0;
  double seconds = 0;
  int64_t peak_rss_bytes = 0;

  nlohmann::json to_json() const;
};

/// Learns R1 and every layer's R2 on `model`, whose head must be preprocessed
/// (quant::preprocess_head) and which must not be rotated. Each layer is
/// prepared here (float64, norms folded); a model that loads its layers on
/// demand reads each one and releases it after its pass.
/// `windows` [n, seqlen] int64 token ids.
LearnedRotations calibrate_dartquant(model::CausalLM& model, const at::Tensor& windows,
                                     const CalibrationOptions& options, CalibrationReport* report);

}  // namespace dartquant::calibration
