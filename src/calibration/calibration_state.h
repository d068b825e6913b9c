// The resumable state of a DartQuant calibration: the R2 of every finished
// layer, so that an interrupted run starts again after the last one. R1 is
// trained after the last layer and is not checkpointed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/model/config.h"

namespace dartquant::calibration {

class CalibrationState {
 public:
  /// Opens the state in `dir` (empty: a state that keeps nothing). State
  /// written for another `identity` is discarded with a warning.
  CalibrationState(std::filesystem::path dir, std::string identity, const model::ModelConfig& config);

  /// R2 of the layers finished by an earlier run, in layer order.
  const std::vector<at::Tensor>& finished_r2() const { return r2_; }

  /// Records layer `layer`'s R2 (the next unfinished layer) atomically.
  void record_r2(int64_t layer, const at::Tensor& r2);

  /// Deletes the state folder's files after a successful calibration.
  void remove();

 private:
  std::filesystem::path dir_;
  std::string identity_;
  const model::ModelConfig& config_;
  std::vector<at::Tensor> r2_;
};

}  // namespace dartquant::calibration
