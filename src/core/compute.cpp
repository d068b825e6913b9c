#include "dartquant/core/compute.h"

#include <thread>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include "dartquant/core/error.h"

namespace dartquant {

c10::Device parse_device(const std::string& text) {
  if (text == "cpu") {
    return c10::Device(c10::kCPU);
  }
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    DQ_CHECK(at::hasCUDA(), "--device ", text,
             ": this build of libtorch has no CUDA support or no GPU is visible; use --device cpu, or build "
             "against a CUDA libtorch (see README)");
    try {
      return c10::Device(text);
    } catch (const c10::Error&) {
      throw UsageError(str("--device ", text, ": invalid device; use cpu, cuda or cuda:N"));
    }
  }
  throw UsageError(str("--device ", text, ": invalid device; use cpu, cuda or cuda:N"));
}

c10::ScalarType parse_compute_dtype(const std::string& text, c10::Device device) {
  c10::ScalarType dtype;
  if (text == "float32" || text == "fp32") {
    dtype = c10::kFloat;
  } else if (text == "float64" || text == "fp64") {
    dtype = c10::kDouble;
  } else if (text == "bfloat16" || text == "bf16") {
    dtype = c10::kBFloat16;
  } else if (text == "float16" || text == "fp16") {
    dtype = c10::kHalf;
  } else {
    throw UsageError(str("--dtype ", text, ": invalid compute dtype; use float32, float64, bfloat16 or float16"));
  }
  DQ_CHECK(!(dtype == c10::kHalf && device.is_cpu()), "--dtype ", text,
           ": float16 matrix products are not available on CPU; use float32 (default) or bfloat16");
  return dtype;
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kFloat:
      return "float32";
    case c10::kDouble:
      return "float64";
    case c10::kBFloat16:
      return "bfloat16";
    case c10::kHalf:
      return "float16";
    default:
      return c10::toString(dtype);
  }
}

int configure_threads(int threads) {
  DQ_CHECK(threads >= 0, "--threads ", threads, ": must be 0 (all cores) or positive");
  if (threads == 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  at::set_num_threads(threads);
  return at::get_num_threads();
}

}  // namespace dartquant
