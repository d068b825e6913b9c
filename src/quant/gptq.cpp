#include "dartquant/quant/gptq.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "group_kernels.h"

namespace dartquant::quant {
namespace {

/// Fraction of mean(diag H) tried first when a zero damping fails: 0.01 is the
/// default damping of the GPTQ and QuaRot reference code.
constexpr double kFirstRetryFraction = 0.01;

/// Upper Cholesky factor U of (H + damping·I)⁻¹ (so H⁻¹ = UᵀU), or nullopt when
/// a factorization fails or produces a non-finite value.
std::optional<at::Tensor> try_inverse_cholesky(const at::Tensor& hessian, double damping) {
  at::Tensor damped = hessian.clone();
  damped.diagonal().add_(damping);

  auto [lower, info] = at::linalg_cholesky_ex(damped, /*upper=*/false, /*check_errors=*/false);
  if (info.item<int64_t>() != 0) {
    return std::nullopt;
  }
  at::Tensor inverse = at::cholesky_inverse(lower, /*upper=*/false);
  auto [upper, info_upper] = at::linalg_cholesky_ex(inverse, /*upper=*/true, /*check_errors=*/false);
  if (info_upper.item<int64_t>() != 0 || !at::isfinite(upper).all().item<bool>()) {
    return std::nullopt;
  }
  return upper;
}

struct InverseFactor {
  at::Tensor upper;  // [in, in]
  double damping = 0.0;
};

/// Factors the damped H⁻¹, raising the damping fraction 10× per failed attempt.
InverseFactor factor_with_retries(const at::Tensor& hessian, const GptqOptions& gptq, const std::string& name) {
  const double mean_diagonal = hessian.diagonal().mean().item<double>();
  double fraction = gptq.damp_fraction;
  for (int attempt = 0;; ++attempt) {
    const double damping = fraction * mean_diagonal;
    if (std::optional<at::Tensor> upper = try_inverse_cholesky(hessian, damping)) {
      return {*upper, damping};
    }

    DQ_CHECK(attempt < gptq.max_damping_retries, name,
             ": GPTQ failed because the Hessian is not positive definite even with damping ", damping, " (",
             fraction, " x mean diagonal ", mean_diagonal, ") after ", attempt,
             " retries; check this layer's calibration inputs or raise gptq.damp_fraction");
    const double next = fraction > 0.0 ? fraction * 10.0 : kFirstRetryFraction;
    spdlog::warn("{}: Cholesky factorization of the damped Hessian failed with damping {:.4g} ({} x mean diagonal "
                 "{:.4g}); retrying with {} x mean diagonal",
                 name, damping, fraction, mean_diagonal, next);
    fraction = next;
  }
}

/// Returns the current weights of the group that starts at block column `i`.
/// Columns inside the block already carry this block's updates. Columns past
/// the block still lack the lazy update from the block's first `i` errors, so
/// it is applied here.
at::Tensor current_group_weights(const at::Tensor& weight, const at::Tensor& block, const at::Tensor& block_errors,
                                 const at::Tensor& upper, int64_t block_start, int64_t i, int64_t group_size) {
  const int64_t columns = weight.size(1);
  const int64_t block_end = block_start + block.size(1);
  const int64_t group_end = std::min(block_start + i + group_size, columns);

  at::Tensor inside = block.narrow(1, i, std::min(group_end, block_end) - (block_start + i));
  if (group_end <= block_end) {
    return inside.contiguous();
  }

  at::Tensor outside = weight.narrow(1, block_end, group_end - block_end);
  if (i > 0) {
    at::Tensor pending = upper.narrow(0, block_start, i).narrow(1, block_end, group_end - block_end);
    outside = outside - block_errors.narrow(1, 0, i).mm(pending);
  }
  return at::cat({inside, outside}, 1);
}

struct ColumnResult {
  at::Tensor dequantized;  // [out, in]
  at::Tensor codes;        // [out, in], integral values in the computation dtype
  QuantParams params;      // [out, groups]
  double loss = 0.0;
};

/// The GPTQ column loop over `weight` [out, in] (modified in place) with the
/// upper Cholesky factor `upper` of H⁻¹.
ColumnResult quantize_columns(at::Tensor& weight, const at::Tensor& upper, const WeightQuantOptions& options,
                              int64_t block_size) {
  const QuantSpec& spec = options.spec;
  const int64_t rows = weight.size(0);
  const int64_t columns = weight.size(1);
  const int64_t group_size = detail::effective_group_size(columns, spec.group_size);

  ColumnResult result;
  result.dequantized = at::zeros_like(weight);
  result.codes = at::zeros_like(weight);
  result.params.scale = at::zeros({rows, group_count(columns, spec.group_size)}, weight.options());
  result.params.zero = at::zeros_like(result.params.scale);
  at::Tensor loss = at::zeros({}, weight.options());
  at::Tensor diagonal = upper.diagonal();
  at::Tensor scale;  // [out], the current group's
  at::Tensor zero;

  for (int64_t block_start = 0; block_start < columns; block_start += block_size) {
    const int64_t count = std::min(block_size, columns - block_start);
    const int64_t block_end = block_start + count;
    at::Tensor block = weight.narrow(1, block_start, count).clone();
    at::Tensor block_errors = at::zeros_like(block);
    at::Tensor block_upper = upper.narrow(0, block_start, count).narrow(1, block_start, count);

    for (int64_t i = 0; i < count; ++i) {
      const int64_t column = block_start + i;

      // Fit the group's parameters when its first column is reached.
      if (column % group_size == 0) {
        at::Tensor current = current_group_weights(weight, block, block_errors, upper, block_start, i, group_size);
        QuantParams params = fit_weight_params(current, options);
        scale = params.scale.select(1, 0);
        zero = params.zero.select(1, 0);
        result.params.scale.select(1, column / group_size).copy_(scale);
        result.params.zero.select(1, column / group_size).copy_(zero);
      }

      // Quantize the column: q = (code − zero)·scale.
      at::Tensor w = block.select(1, i);
      at::Tensor codes = detail::round_to_codes(w, scale, zero, spec);
      at::Tensor q = spec.symmetric ? codes * scale : (codes - zero) * scale;
      result.codes.select(1, column).copy_(codes);
      result.dequantized.select(1, column).copy_(q);

      // GPTQ paper, Algorithm 1: E = (w − q)/U_jj, then W_{:, j+1:} −= E·U_{j, j+1:} within the block.
      at::Tensor error = (w - q) / diagonal.select(0, column);
      loss.add_(error.square().sum());
      if (i + 1 < count) {
        block.narrow(1, i + 1, count - i - 1).addr_(error, block_upper.select(0, i).narrow(0, i + 1, count - i - 1),
                                                    /*beta=*/1, /*alpha=*/-1);
      }
      block_errors.select(1, i).copy_(error);
    }

    // Lazy batch update: every later column receives this block's errors at once.
    if (block_end < columns) {
      at::Tensor later_upper = upper.narrow(0, block_start, count).narrow(1, block_end, columns - block_end);
      weight.narrow(1, block_end, columns - block_end).addmm_(block_errors, later_upper, /*beta=*/1, /*alpha=*/-1);
    }
  }

  result.loss = loss.item<double>();
  return result;
}

}  // namespace

void validate(const GptqOptions& options, const std::string& what) {
  DQ_CHECK(std::isfinite(options.damp_fraction) && options.damp_fraction >= 0.0, what,
           ": damp_fraction must be a finite value >= 0, got ", options.damp_fraction);
  DQ_CHECK(options.block_size > 0, what, ": block_size must be positive, got ", options.block_size);
  DQ_CHECK(options.max_damping_retries >= 0, what, ": max_damping_retries must be >= 0, got ",
           options.max_damping_retries);
}

GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const WeightQuantOptions& options,
                         const GptqOptions& gptq, const std::string& name) {
  validate(options, name);
  validate(gptq, name);
  DQ_CHECK(options.spec.enabled(), name, ": GPTQ needs weight quantization enabled, got ", options.spec.bits,
           " bits");
  DQ_CHECK(weight.dim() == 2 && at::isFloatingType(weight.scalar_type()), name,
           ": GPTQ expects a floating [out, in] weight, got ", weight.scalar_type(), " ", weight.sizes());
  const int64_t columns = weight.size(1);
  DQ_CHECK(columns > 0, name, ": GPTQ expects a weight with input columns, got ", weight.sizes());
  DQ_CHECK(hessian.dim() == 2 && hessian.size(0) == columns && hessian.size(1) == columns, name,
           ": Hessian must be [", columns, ", ", columns, "] for weight ", weight.sizes(), ", got ", hessian.sizes());
  DQ_CHECK(at::isFloatingType(hessian.scalar_type()), name, ": Hessian must be floating, got ",
           hessian.scalar_type());

  const bool wide = weight.scalar_type() == at::kDouble || hessian.scalar_type() == at::kDouble;
  const at::ScalarType dtype = wide ? at::kDouble : at::kFloat;
  at::Tensor w = weight.to(dtype).clone();
  at::Tensor h = hessian.to(w.device(), dtype).clone();
  DQ_CHECK(at::isfinite(h).all().item<bool>(), name, ": Hessian contains NaN or Inf");
  const double min_diagonal = h.diagonal().min().item<double>();
  DQ_CHECK(min_diagonal >= 0.0, name, ": Hessian has a negative diagonal entry (", min_diagonal,
           "), which a Hessian (2/N)·Σ x·xᵀ cannot have; pass the accumulated Hessian of the layer's inputs");

  // Dead columns: an input that is always zero carries no information, so its
  // weights are set to zero and H_ii = 1 keeps H invertible.
  at::Tensor dead = h.diagonal() == 0;
  h.diagonal().masked_fill_(dead, 1.0);
  w.masked_fill_(dead.unsqueeze(0), 0.0);

  InverseFactor factor = factor_with_retries(h, gptq, name);
  ColumnResult columns_result = quantize_columns(w, factor.upper, options, gptq.block_size);
  DQ_CHECK(at::isfinite(columns_result.dequantized).all().item<bool>(), name,
           ": GPTQ produced NaN or Inf weights (damping ", factor.damping, ")");

  GptqResult result;
  result.weight.dequantized = columns_result.dequantized.to(weight.scalar_type());
  result.weight.codes = columns_result.codes.to(at::kInt);
  result.weight.params = columns_result.params;
  result.loss = columns_result.loss;
  result.damping_used = factor.damping;
  return result;
}

}  // namespace dartquant::quant
