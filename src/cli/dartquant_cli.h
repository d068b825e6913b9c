// The DartQuant part of `dartquant quantize`: its options, and learning (or
// loading) the rotations on the preprocessed model.
#pragma once

#include <filesystem>
#include <optional>

#include <ATen/core/Tensor.h>
#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include "dartquant/calibration/dartquant_calibrator.h"
#include "dartquant/core/compute.h"
#include "dartquant/model/causal_lm.h"
#include "dartquant/quant/model_quantizer.h"

namespace dartquant::cli {

/// Adds --rotations, --save-rotations, --calib-state, --no-resume and the
/// optimizer overrides (--r1-lr, --r2-lr, ...).
void add_dartquant_options(cxxopts::Options& options);

/// Checks the DartQuant options before anything slow runs: they are usage
/// errors for other methods, and --rotations must name a file.
void check_dartquant_options(const cxxopts::ParseResult& parsed, quant::Method method);

/// Whether the run learns rotations (dartquant without --rotations).
bool learns_rotations(const cxxopts::ParseResult& parsed, quant::Method method);

/// Parses a byte size such as 512MiB, 8GiB, 8G or 1073741824 (K, M, G, T are
/// powers of 1024); `option` names the flag in errors.
int64_t parse_byte_size(const std::string& text, const std::string& option);

/// Learns R1/R2 on `model` (head preprocessed, see calibrate_dartquant) or
/// loads them from --rotations, stores them in `quantize.r1`/`r2`, writes
/// --save-rotations, and returns the calibration block of the results JSON.
/// R1's activation chunks beyond `chunk_memory` bytes spill to disk.
nlohmann::json prepare_dartquant_rotations(const cxxopts::ParseResult& parsed, const std::filesystem::path& model_dir,
                                           model::CausalLM& model, const at::Tensor& windows,
                                           const ComputeOptions& compute, quant::QuantizeOptions& quantize,
                                           int64_t chunk_memory);

}  // namespace dartquant::cli
