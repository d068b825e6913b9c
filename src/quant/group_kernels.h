// Private helpers shared by the quantizers: group splitting and the elementwise
// quantize/dequantize kernels with broadcast parameters.
#pragma once

#include <cstdint>
#include <functional>

#include <ATen/ATen.h>

#include "dartquant/quant/quantizer.h"

namespace dartquant::quant::detail {

/// float64 for float64 inputs, float32 for every other floating dtype.
at::ScalarType compute_dtype(const at::Tensor& x);

/// Columns per group for a row of `width` columns: `group_size`, or `width`
/// when group_size is 0 or not smaller than width.
int64_t effective_group_size(int64_t width, int64_t group_size);

/// Fits one parameter set per row of a [n, w] matrix and returns [n] tensors.
using RowFitter = std::function<QuantParams(const at::Tensor& rows)>;

/// Runs `fit` on the groups of `x` [rows, width] and returns [rows, groups].
/// Full groups are fitted together as one [rows·full_groups, group_size]
/// matrix. A shorter last group is fitted on its own [rows, tail] slice, so it
/// gets the same numbers as when its columns are fitted alone (as GPTQ does).
QuantParams fit_groups(const at::Tensor& x, int64_t group_size, const RowFitter& fit);

/// Elementwise map over values with the parameters of their group broadcast:
/// `values` [..., n], `scale` and `zero` broadcastable to it.
using GroupMap = std::function<at::Tensor(const at::Tensor& values, const at::Tensor& scale, const at::Tensor& zero)>;

/// Applies `map` to `x` [rows, width] with `params` [rows, groups] and returns
/// the [rows, width] result, without materializing per-column parameters.
at::Tensor map_groups(const at::Tensor& x, const QuantParams& params, int64_t group_size, const GroupMap& map);

/// Codes as floating values: clamp(round(x/scale) + zero, min_code, max_code).
at::Tensor round_to_codes(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, const QuantSpec& spec);

/// Quantizes and dequantizes: (round_to_codes(x) − zero)·scale.
at::Tensor round_trip(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, const QuantSpec& spec);

/// Checks that `params` has [rows, group_count(width)] shape for `x` [rows, width].
void check_params_shape(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec, const char* function);

}  // namespace dartquant::quant::detail
