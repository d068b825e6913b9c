// GPTQ and the Hessian accumulator: identities, error reduction, edge cases,
// and a column-by-column float64 reference written here.
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/quant/gptq.h"

namespace dartquant::quant {
namespace {

WeightQuantOptions weight_options(int bits, bool symmetric, int64_t group_size, bool mse) {
  WeightQuantOptions o;
  o.spec.bits = bits;
  o.spec.symmetric = symmetric;
  o.spec.group_size = group_size;
  o.mse_clip = mse;
  return o;
}

GptqOptions gptq_options(double damp_fraction, int64_t block_size) {
  GptqOptions g;
  g.damp_fraction = damp_fraction;
  g.block_size = block_size;
  return g;
}

/// A seeded generator, so each run uses the same data.
at::Generator seeded(uint64_t seed) {
  return at::detail::createCPUGenerator(seed);
}

/// H = (2/N)·XᵀX for N correlated inputs of width `in` (float64); input
/// `dead_column`, when not negative, is always zero.
at::Tensor correlated_hessian(int64_t in, int64_t samples, uint64_t seed, int64_t dead_column = -1) {
  at::Generator generator = seeded(seed);
  at::Tensor mixing = at::randn({in, in}, generator, at::kDouble);
  at::Tensor x = at::randn({samples, in}, generator, at::kDouble).mm(mixing);
  if (dead_column >= 0) {
    x.select(1, dead_column).zero_();
  }
  return x.t().mm(x) * (2.0 / static_cast<double>(samples));
}

/// Output error tr((W − Q) H (W − Q)ᵀ).
double output_error(const at::Tensor& weight, const at::Tensor& quantized, const at::Tensor& hessian) {
  at::Tensor delta = (weight - quantized).to(at::kDouble);
  return delta.mm(hessian.to(at::kDouble)).mul(delta).sum().item<double>();
}

/// GPTQ as in Algorithm 1 of Frantar et al. (2022), one column at a time and
/// without lazy blocks: quantize column j, then subtract err·U[j, k] from
/// every later column k, where U is the upper Cholesky factor of H⁻¹. A
/// group's parameters come from its current weights when its first column is
/// reached.
at::Tensor reference_gptq_codes(const at::Tensor& weight, const at::Tensor& hessian, const WeightQuantOptions& o,
                                double damp_fraction) {
  at::Tensor w = weight.to(at::kDouble).clone();
  at::Tensor h = hessian.to(at::kDouble).clone();
  const int64_t rows = w.size(0);
  const int64_t columns = w.size(1);

  for (int64_t j = 0; j < columns; ++j) {
    if (h[j][j].item<double>() == 0.0) {
      h[j][j] = 1.0;
      w.select(1, j).zero_();
    }
  }
  double mean_diagonal = 0.0;
  for (int64_t j = 0; j < columns; ++j) {
    mean_diagonal += h[j][j].item<double>() / static_cast<double>(columns);
  }
  for (int64_t j = 0; j < columns; ++j) {
    h[j][j] = h[j][j].item<double>() + damp_fraction * mean_diagonal;
  }
  at::Tensor u = at::linalg_cholesky(at::linalg_inv(h), /*upper=*/true);

  const int64_t group = o.spec.group_size == 0 ? columns : o.spec.group_size;
  const double low = o.spec.symmetric ? -std::pow(2.0, o.spec.bits - 1) : 0.0;
  const double high = o.spec.symmetric ? std::pow(2.0, o.spec.bits - 1) - 1 : std::pow(2.0, o.spec.bits) - 1;
  at::Tensor codes = at::zeros({rows, columns}, at::kInt);
  at::Tensor scale;
  at::Tensor zero;
  for (int64_t j = 0; j < columns; ++j) {
    if (j % group == 0) {
      QuantParams params = fit_weight_params(w.narrow(1, j, std::min(group, columns - j)), o);
      scale = params.scale.select(1, 0);
      zero = params.zero.select(1, 0);
    }
    const double d = u[j][j].item<double>();
    std::vector<double> errors(rows);
    for (int64_t r = 0; r < rows; ++r) {
      const double s = scale[r].item<double>();
      const double z = zero[r].item<double>();
      const double value = w[r][j].item<double>();
      const double code = std::min(std::max(std::nearbyint(value / s) + z, low), high);
      codes[r][j] = static_cast<int>(code);
      errors[r] = (value - (code - z) * s) / d;
    }
    for (int64_t k = j + 1; k < columns; ++k) {
      const double factor = u[j][k].item<double>();
      for (int64_t r = 0; r < rows; ++r) {
        w[r][k] = w[r][k].item<double>() - errors[r] * factor;
      }
    }
  }
  return codes;
}

/// Captures spdlog output of the default logger for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(HessianAccumulator, EqualsBatchFormula) {
  at::Generator generator = seeded(1);
  at::Tensor x = at::randn({3, 5, 6}, generator, at::kDouble);
  HessianAccumulator accumulator(6, at::kDouble);
  accumulator.add(x.narrow(0, 0, 1));
  accumulator.add(at::empty({0, 6}, at::kDouble));
  accumulator.add(x.narrow(0, 1, 2).reshape({10, 6}));

  at::Tensor rows = x.reshape({15, 6});
  at::Tensor expected = rows.t().mm(rows) * (2.0 / 15.0);
  EXPECT_EQ(accumulator.samples(), 15);
  EXPECT_TRUE(at::allclose(accumulator.hessian(), expected, 1e-14, 1e-14));
}

TEST(HessianAccumulator, ConvertsInputDtype) {
  at::Tensor x = at::ones({4, 3}, at::kBFloat16);
  HessianAccumulator accumulator(3);
  accumulator.add(x);
  EXPECT_EQ(accumulator.hessian().scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(accumulator.hessian(), at::full({3, 3}, 2.0f)));
}

TEST(HessianAccumulator, RejectsWrongWidthAndNoSamples) {
  HessianAccumulator accumulator(4);
  EXPECT_THROW(accumulator.add(at::ones({2, 3})), Error);
  EXPECT_THROW(accumulator.hessian(), Error);
}

TEST(GptqIdentity, EqualsRoundToNearest) {
  // With H = I the Cholesky factor of H⁻¹ is diagonal, so no error propagates
  // and GPTQ must reproduce RTN exactly, including the shorter last group.
  at::Generator generator = seeded(2);
  at::Tensor weight = at::randn({8, 40}, generator, at::kFloat);
  at::Tensor identity = at::eye(40, at::kFloat);

  for (int64_t group : {int64_t{0}, int64_t{16}}) {
    for (bool symmetric : {true, false}) {
      SCOPED_TRACE("group " + std::to_string(group) + (symmetric ? " symmetric" : " asymmetric"));
      WeightQuantOptions o = weight_options(4, symmetric, group, true);
      QuantizedWeight rtn = quantize_weight_rtn(weight, o);
      GptqResult gptq = gptq_quantize(weight, identity, o, gptq_options(0.1, 128), "identity");

      EXPECT_TRUE(at::equal(gptq.weight.codes, rtn.codes));
      EXPECT_TRUE(at::equal(gptq.weight.params.scale, rtn.params.scale));
      EXPECT_TRUE(at::equal(gptq.weight.params.zero, rtn.params.zero));
      EXPECT_TRUE(at::equal(gptq.weight.dequantized, rtn.dequantized));
      EXPECT_DOUBLE_EQ(gptq.damping_used, 0.1);
    }
  }
}

TEST(GptqError, LowerThanRoundToNearest) {
  at::Tensor hessian = correlated_hessian(32, 256, 3);
  at::Generator generator = seeded(4);
  at::Tensor weight = at::randn({16, 32}, generator, at::kDouble);

  for (int64_t group : {int64_t{0}, int64_t{8}}) {
    SCOPED_TRACE("group " + std::to_string(group));
    WeightQuantOptions o = weight_options(4, true, group, true);
    const double rtn_error = output_error(weight, quantize_weight_rtn(weight, o).dequantized, hessian);
    GptqResult gptq = gptq_quantize(weight, hessian, o, gptq_options(0.01, 128), "correlated");
    const double gptq_error = output_error(weight, gptq.weight.dequantized, hessian);

    EXPECT_LT(gptq_error, 0.8 * rtn_error) << "GPTQ " << gptq_error << " vs RTN " << rtn_error;
    EXPECT_GT(gptq.loss, 0.0);
  }
}

TEST(GptqDeadColumns, GetZeroWeights) {
  at::Generator generator = seeded(5);
  at::Tensor x = at::randn({64, 12}, generator, at::kFloat);
  x.select(1, 3).zero_();
  x.select(1, 7).zero_();
  HessianAccumulator accumulator(12);
  accumulator.add(x);
  at::Tensor weight = at::randn({6, 12}, generator, at::kFloat) + 1.0;

  for (bool symmetric : {true, false}) {
    SCOPED_TRACE(symmetric ? "symmetric" : "asymmetric");
    GptqResult result = gptq_quantize(weight, accumulator.hessian(), weight_options(4, symmetric, 4, true),
                                      gptq_options(0.1, 128), "dead");
    EXPECT_TRUE(at::all(result.weight.dequantized.select(1, 3) == 0).item<bool>());
    EXPECT_TRUE(at::all(result.weight.dequantized.select(1, 7) == 0).item<bool>());
    EXPECT_TRUE(at::any(result.weight.dequantized.select(1, 0) != 0).item<bool>());
  }
}

TEST(GptqDamping, RetriesWhenNotPositiveDefinite) {
  // Indefinite H: the 2×2 block [[1, 3], [3, 1]] has eigenvalue −2, so the
  // fractions 0, 0.01, 0.1 and 1 of mean diag H = 1 fail and 10 succeeds.
  at::Tensor hessian = at::eye(6, at::kDouble);
  hessian[0][1] = 3.0;
  hessian[1][0] = 3.0;
  at::Generator generator = seeded(6);
  at::Tensor weight = at::randn({4, 6}, generator, at::kDouble);

  LogCapture capture;
  GptqResult result = gptq_quantize(weight, hessian, weight_options(4, true, 0, false), gptq_options(0.0, 128),
                                    "layers.3.mlp.up_proj");
  EXPECT_DOUBLE_EQ(result.damping_used, 10.0);
  EXPECT_TRUE(at::isfinite(result.weight.dequantized).all().item<bool>());
  EXPECT_NE(capture.text().find("layers.3.mlp.up_proj"), std::string::npos) << capture.text();
  EXPECT_NE(capture.text().find("retrying"), std::string::npos) << capture.text();
}

TEST(GptqDamping, FailsAfterTheLastRetry) {
  at::Tensor hessian = at::eye(4, at::kDouble);
  hessian[0][1] = 2.0;
  hessian[1][0] = 2.0;
  GptqOptions g = gptq_options(0.0, 128);
  g.max_damping_retries = 1;

  LogCapture capture;
  try {
    gptq_quantize(at::ones({2, 4}, at::kDouble), hessian, weight_options(4, true, 0, false), g, "layers.0.q_proj");
    ADD_FAILURE() << "an indefinite Hessian was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("layers.0.q_proj"), std::string::npos) << error.what();
  }
}

TEST(GptqChecks, RejectsNonFiniteHessian) {
  at::Tensor hessian = at::eye(4);
  hessian[2][2] = std::numeric_limits<float>::quiet_NaN();
  try {
    gptq_quantize(at::ones({2, 4}), hessian, weight_options(4, true, 0, true), GptqOptions{}, "layers.1.o_proj");
    ADD_FAILURE() << "a NaN Hessian was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("layers.1.o_proj"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("NaN"), std::string::npos) << error.what();
  }
}

TEST(GptqChecks, RejectsMismatchedShapesAndNonFiniteWeights) {
  EXPECT_THROW(gptq_quantize(at::ones({2, 4}), at::eye(5), weight_options(4, true, 0, true), GptqOptions{}, "shape"),
               Error);
  at::Tensor weight = at::ones({2, 4});
  weight[1][1] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(gptq_quantize(weight, at::eye(4), weight_options(4, true, 0, true), GptqOptions{}, "inf"), Error);
}

TEST(GptqReference, SameCodesAsColumnByColumnGptq) {
  // 16×40 with groups of 8; block sizes that hold every column, that align with
  // the groups, and that split groups across blocks (12 and 5).
  at::Tensor hessian = correlated_hessian(40, 200, 7, /*dead_column=*/9);
  at::Generator generator = seeded(8);
  at::Tensor weight = at::randn({16, 40}, generator, at::kDouble);

  for (bool symmetric : {true, false}) {
    for (bool mse : {false, true}) {
      WeightQuantOptions o = weight_options(4, symmetric, 8, mse);
      at::Tensor expected = reference_gptq_codes(weight, hessian, o, 0.1);
      for (int64_t block : {int64_t{128}, int64_t{16}, int64_t{12}, int64_t{5}}) {
        SCOPED_TRACE(std::string(symmetric ? "symmetric" : "asymmetric") + (mse ? " mse" : "") + " block " +
                     std::to_string(block));
        GptqResult result = gptq_quantize(weight, hessian, o, gptq_options(0.1, block), "reference");
        EXPECT_TRUE(at::equal(result.weight.codes, expected))
            << "codes differ at " << at::nonzero(result.weight.codes != expected).narrow(0, 0, 1);
      }
    }
  }
}

}  // namespace
}  // namespace dartquant::quant
