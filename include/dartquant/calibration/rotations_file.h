// The rotations file: DartQuant's learned R1 and R2 in safetensors, written by
// `quantize --save-rotations` and read back by `--rotations` to skip
// calibration. Tensors (float32): "r1" [hidden, hidden] and
// "r2.layers.<i>" [kv_heads, head_dim, head_dim] for every decoder layer.
// "__metadata__" contains format "dartquant-rotations", version "1", the model's
// shape fields and the calibration settings.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/model/config.h"

namespace dartquant::calibration {

/// DartQuant's learned rotations of one model.
struct LearnedRotations {
  at::Tensor r1;               ///< [hidden, hidden]
  std::vector<at::Tensor> r2;  ///< one per decoder layer, [kv_heads, head_dim, head_dim]
};

/// Largest |RᵀR − I| entry over the matrices of `rotation` [..., n, n], in float64.
double orthogonality_error(const at::Tensor& rotation);

/// Writes `rotations` atomically (float32), with `settings` added to the
/// metadata. r1 may be undefined and r2 shorter than the layer count for a
/// partial file (the resumable calibration state).
void save_rotations(const std::filesystem::path& path, const LearnedRotations& rotations,
                    const model::ModelConfig& config, const std::map<std::string, std::string>& settings);

/// Reads a rotations file and checks it against `config`: format, every
/// tensor's name and shape, finite values, and orthogonality (entries of
/// RᵀR − I within 1e-4). With `partial`, r1 and trailing layers may be
/// missing. Throws dartquant::Error naming the file and what is wrong.
LearnedRotations load_rotations(const std::filesystem::path& path, const model::ModelConfig& config,
                                bool partial = false);

/// The metadata of a rotations file (for checks of how it was made).
std::map<std::string, std::string> rotations_metadata(const std::filesystem::path& path);

}  // namespace dartquant::calibration
