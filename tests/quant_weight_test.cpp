// Weight quantization: the MSE clip search checked by brute force, and RTN.
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/core/error.h"
#include "dartquant/quant/weight_quantizer.h"

namespace dartquant::quant {
namespace {

/// Result of the brute-force search over one row or group.
struct BruteForce {
  double shrink = 0.0;
  double scale = 0.0;
  double zero = 0.0;
};

/// Tries every shrink factor (100 − i)/100, i = 0..79, on `values` and keeps
/// the first one with the smallest Σ|Q(w) − w|^2.4, in plain loops. std::nearbyint
/// rounds half to even in the default floating-point environment.
BruteForce brute_force_search(const std::vector<double>& values, bool symmetric, int bits) {
  double low = 0.0;
  double high = 0.0;
  for (double v : values) {
    low = std::min(low, v);
    high = std::max(high, v);
  }

  BruteForce best;
  double best_error = std::numeric_limits<double>::infinity();
  for (int i = 0; i < 80; ++i) {
    const double shrink = (100 - i) / 100.0;
    double scale = 0.0;
    double zero = 0.0;
    double min_code = 0.0;
    double max_code = 0.0;
    if (symmetric) {
      max_code = std::pow(2.0, bits - 1) - 1;
      min_code = -max_code - 1;
      scale = std::max(-low * shrink, high * shrink) / max_code;
    } else {
      max_code = std::pow(2.0, bits) - 1;
      scale = (high * shrink - low * shrink) / max_code;
      zero = std::nearbyint(-low * shrink / scale);
    }

    double error = 0.0;
    for (double v : values) {
      const double code = std::min(std::max(std::nearbyint(v / scale) + zero, min_code), max_code);
      error += std::pow(std::abs((code - zero) * scale - v), 2.4);
    }
    if (error < best_error) {
      best_error = error;
      best = {shrink, scale, zero};
    }
  }
  return best;
}

std::vector<double> row_values(const at::Tensor& x, int64_t row, int64_t begin, int64_t end) {
  std::vector<double> values;
  for (int64_t column = begin; column < end; ++column) {
    values.push_back(x[row][column].item<double>());
  }
  return values;
}

/// Rows where shrinking the range lowers the error: values on a grid finer
/// than max/7 plus one outlier just past it (the search picks 0.84 and 0.96
/// for symmetric 4 bits), and a row of evenly spread values.
at::Tensor outlier_rows() {
  at::Tensor x = at::empty({3, 16}, at::kDouble);
  for (int64_t column = 0; column < 15; ++column) {
    x[0][column] = 0.05 * static_cast<double>(column - 7);
  }
  x[0][15] = -0.42;
  for (int64_t column = 0; column < 13; ++column) {
    x[1][column] = 0.1 * static_cast<double>(column - 6);
  }
  x[1][13] = 0.75;
  x[1][14] = 0.05;
  x[1][15] = -0.35;
  for (int64_t column = 0; column < 16; ++column) {
    x[2][column] = -1.0 + 2.0 * static_cast<double>(column) / 15.0;
  }
  return x;
}

WeightQuantOptions options(int bits, bool symmetric, int64_t group_size, bool mse) {
  WeightQuantOptions o;
  o.spec.bits = bits;
  o.spec.symmetric = symmetric;
  o.spec.group_size = group_size;
  o.mse_clip = mse;
  return o;
}

TEST(WeightQuantMse, CandidatesAreEightyFactors) {
  std::vector<double> factors = shrink_candidates(WeightQuantOptions{});
  ASSERT_EQ(factors.size(), 80U);
  EXPECT_DOUBLE_EQ(factors.front(), 1.0);
  EXPECT_NEAR(factors[1], 0.99, 1e-15);
  EXPECT_NEAR(factors.back(), 0.21, 1e-15);
}

TEST(WeightQuantMse, MatchesBruteForceSearch) {
  at::Tensor x = outlier_rows();
  for (bool symmetric : {true, false}) {
    SCOPED_TRACE(symmetric ? "symmetric" : "asymmetric");
    QuantParams params = fit_weight_params(x, options(4, symmetric, 0, true));
    ASSERT_EQ(params.scale.sizes(), at::IntArrayRef({3, 1}));

    for (int64_t r = 0; r < 3; ++r) {
      BruteForce expected = brute_force_search(row_values(x, r, 0, 16), symmetric, 4);
      EXPECT_NEAR(params.scale[r][0].item<double>(), expected.scale, 1e-14) << "row " << r;
      EXPECT_EQ(params.zero[r][0].item<double>(), expected.zero) << "row " << r;
    }
  }
}

TEST(WeightQuantMse, OutlierRowsShrink) {
  // The search must pick a factor below 1 for the outlier rows, or the
  // brute-force comparison above would not exercise the search.
  at::Tensor x = outlier_rows();
  for (bool symmetric : {true, false}) {
    for (int64_t r = 0; r < 2; ++r) {
      BruteForce expected = brute_force_search(row_values(x, r, 0, 16), symmetric, 4);
      EXPECT_LT(expected.shrink, 1.0) << "row " << r << (symmetric ? " symmetric" : " asymmetric");
    }
  }
  EXPECT_NEAR(brute_force_search(row_values(x, 0, 0, 16), true, 4).shrink, 0.84, 1e-12);
}

TEST(WeightQuantMse, SearchesEachGroup) {
  // Groups of 6 over 16 columns: [0, 6), [6, 12) and the shorter [12, 16).
  at::Tensor x = outlier_rows();
  QuantParams params = fit_weight_params(x, options(3, true, 6, true));
  ASSERT_EQ(params.scale.sizes(), at::IntArrayRef({3, 3}));

  const int64_t bounds[][2] = {{0, 6}, {6, 12}, {12, 16}};
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t g = 0; g < 3; ++g) {
      BruteForce expected = brute_force_search(row_values(x, r, bounds[g][0], bounds[g][1]), true, 3);
      EXPECT_NEAR(params.scale[r][g].item<double>(), expected.scale, 1e-14) << "row " << r << " group " << g;
    }
  }
}

TEST(WeightQuantMse, ShrinkLowersTheError) {
  at::Tensor x = outlier_rows();
  at::Tensor plain = quantize_weight_rtn(x, options(4, true, 0, false)).dequantized;
  at::Tensor searched = quantize_weight_rtn(x, options(4, true, 0, true)).dequantized;
  const double plain_error = (plain - x).abs().pow(2.4).sum().item<double>();
  const double searched_error = (searched - x).abs().pow(2.4).sum().item<double>();
  EXPECT_LT(searched_error, plain_error);
}

TEST(WeightQuantMse, OffEqualsMinMaxParams) {
  at::Tensor x = outlier_rows();
  WeightQuantOptions o = options(4, false, 6, false);
  QuantParams fitted = fit_weight_params(x, o);
  QuantParams min_max = compute_params(x, o.spec);
  EXPECT_TRUE(at::equal(fitted.scale, min_max.scale));
  EXPECT_TRUE(at::equal(fitted.zero, min_max.zero));
}

TEST(WeightQuantRtn, OutputsMatchTheirParams) {
  at::Tensor weight = at::randn({8, 300}).to(at::kBFloat16);
  WeightQuantOptions o = options(4, true, 128, true);
  QuantizedWeight quantized = quantize_weight_rtn(weight, o);

  EXPECT_EQ(quantized.dequantized.scalar_type(), at::kBFloat16);
  EXPECT_EQ(quantized.dequantized.sizes(), weight.sizes());
  EXPECT_EQ(quantized.codes.scalar_type(), at::kInt);
  EXPECT_EQ(quantized.params.scale.scalar_type(), at::kFloat);
  EXPECT_EQ(quantized.params.scale.sizes(), at::IntArrayRef({8, 3}));
  EXPECT_GE(quantized.codes.min().item<int>(), -8);
  EXPECT_LE(quantized.codes.max().item<int>(), 7);

  at::Tensor restored = dequantize_codes(quantized.codes, quantized.params, o.spec);
  EXPECT_TRUE(at::equal(restored.to(at::kBFloat16), quantized.dequantized));
}

TEST(WeightQuantRtn, ShortLastGroupFitsLikeItsSlice) {
  // 300 columns in groups of 128: the last group has 44 columns.
  at::Tensor weight = at::randn({5, 300}, at::kDouble);
  WeightQuantOptions o = options(4, false, 128, true);
  QuantizedWeight quantized = quantize_weight_rtn(weight, o);
  QuantParams tail = fit_weight_params(weight.narrow(1, 256, 44), o);

  ASSERT_EQ(tail.scale.sizes(), at::IntArrayRef({5, 1}));
  EXPECT_TRUE(at::equal(quantized.params.scale.narrow(1, 2, 1), tail.scale));
  EXPECT_TRUE(at::equal(quantized.params.zero.narrow(1, 2, 1), tail.zero));
}

TEST(WeightQuantRtn, RejectsDisabledSpecAndBadOptions) {
  at::Tensor weight = at::randn({2, 4});
  EXPECT_THROW(quantize_weight_rtn(weight, options(16, true, 0, true)), Error);

  WeightQuantOptions bad = options(4, true, 0, true);
  bad.shrink_min = 0.0;
  EXPECT_THROW(quantize_weight_rtn(weight, bad), Error);
  bad = options(4, true, 0, true);
  bad.mse_norm = -1.0;
  EXPECT_THROW(quantize_weight_rtn(weight, bad), Error);
}

}  // namespace
}  // namespace dartquant::quant
