#include "group_kernels.h"

#include "dartquant/core/error.h"

namespace dartquant::quant::detail {

at::ScalarType compute_dtype(const at::Tensor& x) {
  return x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

int64_t effective_group_size(int64_t width, int64_t group_size) {
  return group_size == 0 || group_size >= width ? width : group_size;
}

QuantParams fit_groups(const at::Tensor& x, int64_t group_size, const RowFitter& fit) {
  const int64_t rows = x.size(0);
  const int64_t width = x.size(1);
  DQ_CHECK(width > 0, "cannot fit quantization parameters to rows of zero width (input ", x.sizes(), ")");
  const int64_t size = effective_group_size(width, group_size);
  const int64_t full_groups = width / size;
  const int64_t tail = width - full_groups * size;

  // Full groups: one row of the reshaped matrix per (row, group).
  at::Tensor full = x.narrow(1, 0, full_groups * size).reshape({rows * full_groups, size});
  QuantParams params = fit(full);
  params.scale = params.scale.view({rows, full_groups});
  params.zero = params.zero.view({rows, full_groups});
  if (tail == 0) {
    return params;
  }

  // The shorter last group gets its own parameters.
  QuantParams last = fit(x.narrow(1, full_groups * size, tail));
  params.scale = at::cat({params.scale, last.scale.view({rows, 1})}, 1);
  params.zero = at::cat({params.zero, last.zero.view({rows, 1})}, 1);
  return params;
}

at::Tensor map_groups(const at::Tensor& x, const QuantParams& params, int64_t group_size, const GroupMap& map) {
  const int64_t rows = x.size(0);
  const int64_t width = x.size(1);
  if (width == 0) {
    return map(x, params.scale, params.zero);
  }
  const int64_t size = effective_group_size(width, group_size);
  const int64_t full_groups = width / size;
  const int64_t tail = width - full_groups * size;

  // View the full groups as [rows, groups, size] so [rows, groups, 1] parameters broadcast.
  at::Tensor full_values = x.narrow(1, 0, full_groups * size).reshape({rows, full_groups, size});
  at::Tensor full = map(full_values, params.scale.narrow(1, 0, full_groups).unsqueeze(2),
                        params.zero.narrow(1, 0, full_groups).unsqueeze(2))
                        .reshape({rows, full_groups * size});
  if (tail == 0) {
    return full;
  }

  at::Tensor last = map(x.narrow(1, full_groups * size, tail), params.scale.narrow(1, full_groups, 1),
                        params.zero.narrow(1, full_groups, 1));
  return at::cat({full, last}, 1);
}

at::Tensor round_to_codes(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, const QuantSpec& spec) {
  at::Tensor codes = at::round(x / scale);
  if (!spec.symmetric) {
    codes.add_(zero);
  }
  return codes.clamp_(static_cast<double>(min_code(spec)), static_cast<double>(max_code(spec)));
}

at::Tensor round_trip(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, const QuantSpec& spec) {
  at::Tensor codes = round_to_codes(x, scale, zero, spec);
  if (!spec.symmetric) {
    codes.sub_(zero);
  }
  return codes.mul_(scale);
}

void check_params_shape(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec, const char* function) {
  DQ_CHECK(x.dim() == 2, function, ": expected a [rows, width] tensor, got ", x.dim(), " dimensions ", x.sizes());
  DQ_CHECK(params.scale.defined() && params.zero.defined(), function, ": scale and zero must be defined");
  const int64_t groups = group_count(x.size(1), spec.group_size);
  const std::vector<int64_t> expected{x.size(0), groups};
  DQ_CHECK(params.scale.sizes() == at::IntArrayRef(expected) && params.zero.sizes() == at::IntArrayRef(expected),
           function, ": parameters must be [rows, groups] = [", x.size(0), ", ", groups, "] for input ", x.sizes(),
           " with group size ", spec.group_size, ", got scale ", params.scale.sizes(), " and zero ",
           params.zero.sizes());
}

}  // namespace dartquant::quant::detail
