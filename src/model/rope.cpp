#include "dartquant/model/rope.h"

#include <cmath>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"

namespace dartquant::model {
namespace {

/// Llama 3.1 frequency rule: keep high frequencies (wavelength below
/// original_context / high_freq_factor), divide low ones (wavelength above
/// original_context / low_freq_factor) by `factor`, and blend linearly between.
at::Tensor apply_llama3_scaling(const at::Tensor& inverse_frequencies, const RopeScaling& scaling) {
  const double original = static_cast<double>(scaling.original_max_position_embeddings);
  const double low_wavelength = original / scaling.low_freq_factor;
  const double high_wavelength = original / scaling.high_freq_factor;

  auto result = inverse_frequencies.clone();
  auto values = result.accessor<double, 1>();
  for (int64_t i = 0; i < result.size(0); ++i) {
    double frequency = values[i];
    double wavelength = 2.0 * M_PI / frequency;
    if (wavelength < high_wavelength) {
      continue;
    }
    if (wavelength > low_wavelength) {
      values[i] = frequency / scaling.factor;
      continue;
    }
    double smooth = (original / wavelength - scaling.low_freq_factor) /
                    (scaling.high_freq_factor - scaling.low_freq_factor);
    values[i] = (1.0 - smooth) * frequency / scaling.factor + smooth * frequency;
  }
  return result;
}

at::Tensor rotate_half(const at::Tensor& x) {
  int64_t half = x.size(-1) / 2;
  auto first = x.narrow(-1, 0, half);
  auto second = x.narrow(-1, half, half);
  return at::cat({second.neg(), first}, -1);
}

}  // namespace

at::Tensor rope_inverse_frequencies(const ModelConfig& config) {
  auto exponents = at::arange(0, config.head_dim, 2, at::kDouble) / static_cast<double>(config.head_dim);
  auto inverse = at::pow(config.rope_theta, exponents).reciprocal();
  switch (config.rope_scaling.type) {
    case RopeScaling::Type::kNone:
      return inverse;
    case RopeScaling::Type::kLinear:
      return inverse / config.rope_scaling.factor;
    case RopeScaling::Type::kLlama3:
      return apply_llama3_scaling(inverse, config.rope_scaling);
  }
  return inverse;
}

RotaryEmbedding::RotaryEmbedding(const ModelConfig& config, int64_t max_positions, const ComputeOptions& options) {
  DQ_CHECK(max_positions > 0, "RoPE table size must be positive, got ", max_positions);
  auto positions = at::arange(max_positions, at::kDouble);
  auto angles = at::outer(positions, rope_inverse_frequencies(config));  // [positions, head_dim / 2]
  auto both = at::cat({angles, angles}, -1);
  auto target = at::TensorOptions().dtype(options.dtype).device(options.device);
  cos_ = both.cos().to(target);
  sin_ = both.sin().to(target);
}

at::Tensor RotaryEmbedding::apply(const at::Tensor& x) const {
  int64_t length = x.size(2);
  DQ_CHECK(length <= max_positions(), "sequence of ", length, " tokens exceeds the RoPE table of ", max_positions(),
           " positions");
  auto cos = cos_.narrow(0, 0, length);
  auto sin = sin_.narrow(0, 0, length);
  return x * cos + rotate_half(x) * sin;
}

}  // namespace dartquant::model
