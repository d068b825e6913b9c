#include "dartquant/quant/quantizer.h"

#include <cmath>

#include "dartquant/core/error.h"
#include "group_kernels.h"

namespace dartquant::quant {

void validate(const QuantSpec& spec, const std::string& what) {
  DQ_CHECK((spec.bits >= 2 && spec.bits <= 8) || spec.bits >= 16, what,
           ": bits must be 2..8, or 16 and above for no quantization, got ", spec.bits);
  DQ_CHECK(spec.group_size >= 0, what, ": group_size must be 0 (one group per row) or positive, got ",
           spec.group_size);
  DQ_CHECK(std::isfinite(spec.clip_ratio) && spec.clip_ratio > 0.0 && spec.clip_ratio <= 1.0, what,
           ": clip_ratio must be in (0, 1], got ", spec.clip_ratio);
}

int64_t min_code(const QuantSpec& spec) {
  return spec.symmetric ? -(int64_t{1} << (spec.bits - 1)) : 0;
}

int64_t max_code(const QuantSpec& spec) {
  return spec.symmetric ? (int64_t{1} << (spec.bits - 1)) - 1 : (int64_t{1} << spec.bits) - 1;
}

int64_t group_count(int64_t width, int64_t group_size) {
  if (width == 0) {
    return 0;
  }
  const int64_t size = detail::effective_group_size(width, group_size);
  return (width + size - 1) / size;
}

QuantParams params_from_range(const at::Tensor& range_min, const at::Tensor& range_max, const QuantSpec& spec) {
  const double max_positive = static_cast<double>(max_code(spec));

  if (spec.symmetric) {
    // scale = max|x|·c / (2^(b−1) − 1). A zero range gets scale 1, so every value maps to code 0.
    at::Tensor absolute_max = at::maximum(range_min.neg(), range_max);
    at::Tensor scale = absolute_max / max_positive;
    scale = at::where(scale == 0, at::ones_like(scale), scale);
    return {scale, at::zeros_like(scale)};
  }

  // scale = (max − min)·c / (2^b − 1). A zero range becomes [−1, 1], as in QuaRot,
  // so the zero point is well defined and 0 still maps back to exactly 0.
  at::Tensor scale = (range_max - range_min) / max_positive;
  at::Tensor degenerate = scale == 0;
  at::Tensor low = at::where(degenerate, at::full_like(range_min, -1.0), range_min);
  scale = at::where(degenerate, at::full_like(scale, 2.0 / max_positive), scale);
  at::Tensor zero = at::round(low.neg() / scale);
  return {scale, zero};
}

QuantParams compute_params(const at::Tensor& x, const QuantSpec& spec) {
  validate(spec, "compute_params");
  DQ_CHECK(spec.enabled(), "compute_params: quantization is disabled (", spec.bits, " bits)");
  DQ_CHECK(x.dim() == 2, "compute_params: expected a [rows, width] tensor, got ", x.sizes());
  DQ_CHECK(at::isFloatingType(x.scalar_type()), "compute_params: expected a floating tensor, got ",
           x.scalar_type());

  at::Tensor values = x.to(detail::compute_dtype(x));
  return detail::fit_groups(values, spec.group_size, [&](const at::Tensor& rows) {
    // The range always includes 0 (QuaRot and GPTQ), then shrinks by the clip ratio.
    at::Tensor range_min = rows.amin(1).clamp_max_(0.0).mul_(spec.clip_ratio);
    at::Tensor range_max = rows.amax(1).clamp_min_(0.0).mul_(spec.clip_ratio);
    return params_from_range(range_min, range_max, spec);
  });
}

at::Tensor quantize_codes(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec) {
  validate(spec, "quantize_codes");
  DQ_CHECK(spec.enabled(), "quantize_codes: quantization is disabled (", spec.bits, " bits)");
  detail::check_params_shape(x, params, spec, "quantize_codes");

  at::Tensor values = x.to(params.scale.scalar_type());
  at::Tensor codes = detail::map_groups(values, params, spec.group_size,
                                        [&](const at::Tensor& v, const at::Tensor& scale, const at::Tensor& zero) {
                                          return detail::round_to_codes(v, scale, zero, spec);
                                        });
  return codes.to(at::kInt);
}

at::Tensor dequantize_codes(const at::Tensor& codes, const QuantParams& params, const QuantSpec& spec) {
  validate(spec, "dequantize_codes");
  DQ_CHECK(spec.enabled(), "dequantize_codes: quantization is disabled (", spec.bits, " bits)");
  detail::check_params_shape(codes, params, spec, "dequantize_codes");

  at::Tensor values = codes.to(params.scale.scalar_type());
  return detail::map_groups(values, params, spec.group_size,
                            [&](const at::Tensor& v, const at::Tensor& scale, const at::Tensor& zero) {
                              return spec.symmetric ? v * scale : (v - zero) * scale;
                            });
}

at::Tensor quantize_dequantize(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec) {
  validate(spec, "quantize_dequantize");
  DQ_CHECK(spec.enabled(), "quantize_dequantize: quantization is disabled (", spec.bits, " bits)");
  detail::check_params_shape(x, params, spec, "quantize_dequantize");

  at::Tensor values = x.to(params.scale.scalar_type());
  return detail::map_groups(values, params, spec.group_size,
                            [&](const at::Tensor& v, const at::Tensor& scale, const at::Tensor& zero) {
                              return detail::round_trip(v, scale, zero, spec);
                            });
}

at::Tensor fake_quantize(const at::Tensor& x, const QuantSpec& spec) {
  if (!spec.enabled()) {
    return x;
  }
  validate(spec, "fake_quantize");
  DQ_CHECK(x.dim() >= 1, "fake_quantize: expected a tensor with a last dimension, got a scalar");
  if (x.numel() == 0) {
    return x;
  }

  // Every leading dimension is a row: one token per row for activations.
  const int64_t width = x.size(-1);
  at::Tensor rows = x.reshape({-1, width}).to(detail::compute_dtype(x));
  QuantParams params = compute_params(rows, spec);
  at::Tensor result = quantize_dequantize(rows, params, spec);
  return result.to(x.scalar_type()).view(x.sizes());
}

}  // namespace dartquant::quant
