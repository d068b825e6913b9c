#include "dartquant/quant/weight_quantizer.h"

#include <cmath>
#include <limits>

#include "dartquant/core/error.h"
#include "group_kernels.h"

namespace dartquant::quant {
namespace {

/// Min/max parameters of each row of `rows` [n, w], then, with the MSE search,
/// the shrink factor that minimizes Σ|Q(w) − w|^p per row. Returns [n] tensors.
QuantParams fit_rows(const at::Tensor& rows, const WeightQuantOptions& options) {
  const QuantSpec& spec = options.spec;
  at::Tensor range_min = rows.amin(1).clamp_max_(0.0).mul_(spec.clip_ratio);
  at::Tensor range_max = rows.amax(1).clamp_min_(0.0).mul_(spec.clip_ratio);
  QuantParams best = params_from_range(range_min, range_max, spec);
  if (!options.mse_clip) {
    return best;
  }

  // Strict "<" keeps the first (largest) factor on ties, as GPTQ's search does.
  at::Tensor best_error = at::full({rows.size(0)}, std::numeric_limits<double>::infinity(), rows.options());
  for (double shrink : shrink_candidates(options)) {
    QuantParams candidate = params_from_range(range_min * shrink, range_max * shrink, spec);
    at::Tensor restored = detail::round_trip(rows, candidate.scale.unsqueeze(1), candidate.zero.unsqueeze(1), spec);
    at::Tensor error = restored.sub_(rows).abs_().pow_(options.mse_norm).sum(1);

    at::Tensor better = error < best_error;
    best_error = at::where(better, error, best_error);
    best.scale = at::where(better, candidate.scale, best.scale);
    best.zero = at::where(better, candidate.zero, best.zero);
  }
  return best;
}

}  // namespace

void validate(const WeightQuantOptions& options, const std::string& what) {
  validate(options.spec, what);
  DQ_CHECK(std::isfinite(options.mse_norm) && options.mse_norm > 0.0, what,
           ": MSE norm must be positive, got ", options.mse_norm);
  DQ_CHECK(std::isfinite(options.shrink_min) && options.shrink_min > 0.0 && options.shrink_min <= 1.0, what,
           ": shrink_min must be in (0, 1], got ", options.shrink_min);
  DQ_CHECK(std::isfinite(options.shrink_step) && options.shrink_step > 0.0 && options.shrink_step <= 1.0, what,
           ": shrink_step must be in (0, 1], got ", options.shrink_step);
}

std::vector<double> shrink_candidates(const WeightQuantOptions& options) {
  // Factor i is 1 − i·step, computed from i rather than by repeated subtraction
  // so the 80th default factor is 0.21 and not 0.21 plus accumulated error.
  const auto count = static_cast<int64_t>(std::floor((1.0 - options.shrink_min) / options.shrink_step + 1e-9)) + 1;
  std::vector<double> factors;
  factors.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    factors.push_back(1.0 - static_cast<double>(i) * options.shrink_step);
  }
  return factors;
}

QuantParams fit_weight_params(const at::Tensor& w, const WeightQuantOptions& options) {
  validate(options, "fit_weight_params");
  DQ_CHECK(options.spec.enabled(), "fit_weight_params: weight quantization is disabled (", options.spec.bits,
           " bits)");
  DQ_CHECK(w.dim() == 2, "fit_weight_params: expected a [rows, width] tensor, got ", w.sizes());
  DQ_CHECK(at::isFloatingType(w.scalar_type()), "fit_weight_params: expected a floating tensor, got ",
           w.scalar_type());

  at::Tensor values = w.to(detail::compute_dtype(w));
  return detail::fit_groups(values, options.spec.group_size,
                            [&](const at::Tensor& rows) { return fit_rows(rows, options); });
}

QuantizedWeight quantize_weight_rtn(const at::Tensor& weight, const WeightQuantOptions& options) {
  DQ_CHECK(at::isFloatingType(weight.scalar_type()), "quantize_weight_rtn: expected a floating weight, got ",
           weight.scalar_type());
  at::Tensor values = weight.to(detail::compute_dtype(weight));
  QuantParams params = fit_weight_params(values, options);
  at::Tensor codes = quantize_codes(values, params, options.spec);
  at::Tensor dequantized = dequantize_codes(codes, params, options.spec).to(weight.scalar_type());
  return {dequantized, codes, params};
}

}  // namespace dartquant::quant
