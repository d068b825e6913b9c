// Compute device and precision of the forward pass.
#pragma once

#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace dartquant {

/// Device and floating-point dtype of the forward pass. Weights keep their
/// storage dtype and are widened to `dtype` per matrix product.
struct ComputeOptions {
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;
};

/// Parses "cpu", "cuda" or "cuda:N"; rejects CUDA when libtorch was built without
/// it or no GPU is visible.
c10::Device parse_device(const std::string& text);

/// Parses "float32", "float64", "bfloat16" or "float16" (also fp32, fp64, bf16,
/// fp16). float16 is rejected on CPU: libtorch 1.13 has no CPU half matmul.
c10::ScalarType parse_compute_dtype(const std::string& text, c10::Device device);

/// The lowercase name used in logs and result files ("float32", ...).
std::string dtype_name(c10::ScalarType dtype);

/// Sets libtorch's intra-op thread count; 0 means all hardware threads.
/// Returns the count in effect.
int configure_threads(int threads);

}  // namespace dartquant
