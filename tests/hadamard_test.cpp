// Hadamard matrices: factoring rule, exact H·Hᵀ = n·I, orthogonality of the
// normalized and randomized forms, and the fast transform against dense products.
#include "dartquant/rotation/hadamard.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"

namespace {

using dartquant::rotation::apply_hadamard;
using dartquant::rotation::hadamard_matrix;
using dartquant::rotation::HadamardConstruction;
using dartquant::rotation::HadamardPlan;
using dartquant::rotation::normalized_hadamard;
using dartquant::rotation::plan_hadamard;
using dartquant::rotation::random_hadamard;
using dartquant::rotation::random_signs;
using dartquant::rotation::verify_hadamard;

struct ExpectedPlan {
  int64_t size;
  int64_t base_order;
  HadamardConstruction base;
  int64_t parameter;  // q for Paley, m for Williamson
};

// The MLP widths and head dimensions of the target and test models, with the
// factor K that the factoring rule must pick (all Paley I except 172).
const std::vector<ExpectedPlan>& model_sizes() {
  static const std::vector<ExpectedPlan> sizes = {
      {14336, 28, HadamardConstruction::kPaleyI, 27},   {1408, 44, HadamardConstruction::kPaleyI, 43},
      {2816, 44, HadamardConstruction::kPaleyI, 43},    {10944, 684, HadamardConstruction::kPaleyI, 683},
      {5632, 44, HadamardConstruction::kPaleyI, 43},    {3584, 28, HadamardConstruction::kPaleyI, 27},
      {2560, 20, HadamardConstruction::kPaleyI, 19},    {20480, 20, HadamardConstruction::kPaleyI, 19},
      {11008, 344, HadamardConstruction::kPaleyI, 343}, {13824, 108, HadamardConstruction::kPaleyI, 107},
      {5120, 20, HadamardConstruction::kPaleyI, 19},    {688, 344, HadamardConstruction::kPaleyI, 343},
      {224, 28, HadamardConstruction::kPaleyI, 27},     {88, 44, HadamardConstruction::kPaleyI, 43},
      {176, 44, HadamardConstruction::kPaleyI, 43},     {1368, 684, HadamardConstruction::kPaleyI, 683},
      {172, 172, HadamardConstruction::kWilliamson, 43}, {8, 1, HadamardConstruction::kSylvester, 0},
      {16, 1, HadamardConstruction::kSylvester, 0},     {64, 1, HadamardConstruction::kSylvester, 0},
      {128, 1, HadamardConstruction::kSylvester, 0},    {256, 1, HadamardConstruction::kSylvester, 0},
      {512, 1, HadamardConstruction::kSylvester, 0},    {1024, 1, HadamardConstruction::kSylvester, 0},
      {2048, 1, HadamardConstruction::kSylvester, 0},   {4096, 1, HadamardConstruction::kSylvester, 0},
      {8192, 1, HadamardConstruction::kSylvester, 0},
  };
  return sizes;
}

// Dense products of an n×n float64 matrix cost n³; above this order the tests
// check the factors exactly and the assembled matrix against their Kronecker product.
constexpr int64_t kDenseCheckLimit = 1408;

// Above this order the dense matrix is not formed at all (20480² bytes is 420 MB).
constexpr int64_t kDenseMatrixLimit = 8192;

// Standard normal test inputs from a fixed seed, so failures reproduce.
at::Tensor random_input(at::IntArrayRef sizes, at::ScalarType dtype) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1234);
  return at::randn(sizes, generator, at::TensorOptions().dtype(dtype));
}

double max_abs_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

double orthogonality_error(const at::Tensor& m) {
  const at::Tensor product = at::matmul(m.to(at::kDouble), m.to(at::kDouble).t());
  return max_abs_difference(product, at::eye(m.size(0), at::kDouble));
}

// Checks H_n exactly: directly when small, else as H_K ⊗ H_P with exact
// factors, which suffices because (A ⊗ B)(A ⊗ B)ᵀ = A·Aᵀ ⊗ B·Bᵀ = K·I ⊗ P·I.
void expect_exact_hadamard(int64_t n) {
  SCOPED_TRACE("n=" + std::to_string(n));
  const HadamardPlan plan = plan_hadamard(n);
  if (n <= kDenseCheckLimit) {
    EXPECT_TRUE(verify_hadamard(hadamard_matrix(n), n));
    return;
  }

  int64_t outer = plan.base_order;
  int64_t inner = plan.power_of_two;
  if (plan.base == HadamardConstruction::kSylvester) {
    // A large power of two is checked as H_{n/1024} ⊗ H_1024.
    outer = n / 1024;
    inner = 1024;
  }
  const at::Tensor outer_matrix = hadamard_matrix(outer);
  const at::Tensor inner_matrix = hadamard_matrix(inner);
  EXPECT_TRUE(verify_hadamard(outer_matrix, outer));
  EXPECT_TRUE(verify_hadamard(inner_matrix, inner));
  if (n <= kDenseMatrixLimit) {
    EXPECT_TRUE(at::equal(hadamard_matrix(n), at::kron(outer_matrix, inner_matrix)));
  }
}

// Routes spdlog's default logger into memory while alive.
class CapturedLog {
 public:
  CapturedLog()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16)), previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("hadamard_test", sink_);
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::vector<std::string> lines() const { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(HadamardPlan, ModelSizesMatchMethod) {
  for (const auto& expected : model_sizes()) {
    SCOPED_TRACE("n=" + std::to_string(expected.size));
    const HadamardPlan plan = plan_hadamard(expected.size);
    EXPECT_EQ(plan.size, expected.size);
    EXPECT_EQ(plan.base_order, expected.base_order);
    EXPECT_EQ(plan.base, expected.base);
    EXPECT_EQ(plan.parameter, expected.parameter);
    EXPECT_EQ(plan.power_of_two, expected.size / expected.base_order);
    EXPECT_EQ(plan.block, nullptr);
  }
}

TEST(HadamardPlan, DescribeNamesFactors) {
  EXPECT_EQ(plan_hadamard(14336).describe(), "28 (Paley I, q=27) x 512 (Sylvester)");
  EXPECT_EQ(plan_hadamard(172).describe(), "172 (Williamson, m=43)");
  EXPECT_EQ(plan_hadamard(208).describe(), "52 (Paley II, q=25) x 4 (Sylvester)");
  EXPECT_EQ(plan_hadamard(4096).describe(), "4096 (Sylvester)");
  EXPECT_EQ(plan_hadamard(684).describe(), "684 (Paley I, q=683)");
}

TEST(HadamardPlan, PaleyOnePreferredOverPaleyTwo) {
  // 12 = 11 + 1 = 2(5 + 1) and 20 = 19 + 1 = 2(9 + 1) have both constructions.
  EXPECT_EQ(plan_hadamard(12).base, HadamardConstruction::kPaleyI);
  EXPECT_EQ(plan_hadamard(20).base, HadamardConstruction::kPaleyI);

  // 36, 52 and 100 have only Paley II, over GF(17), GF(5²) and GF(7²).
  EXPECT_EQ(plan_hadamard(36).base, HadamardConstruction::kPaleyII);
  EXPECT_EQ(plan_hadamard(36).parameter, 17);
  EXPECT_EQ(plan_hadamard(52).parameter, 25);
  EXPECT_EQ(plan_hadamard(100).parameter, 49);
}

TEST(HadamardPlan, WilliamsonOnlyWithoutPaleyOrder) {
  // 92 = 4·23 has no Paley order, but 368 = 92·4 does (367 is prime), so
  // Williamson is not used there even though 92 is Williamson-constructible.
  EXPECT_EQ(plan_hadamard(92).base, HadamardConstruction::kWilliamson);
  EXPECT_EQ(plan_hadamard(92).parameter, 23);
  const HadamardPlan plan = plan_hadamard(368);
  EXPECT_EQ(plan.base, HadamardConstruction::kPaleyI);
  EXPECT_EQ(plan.base_order, 368);
}

TEST(HadamardPlan, RejectsNonPositiveSize) {
  EXPECT_THROW(plan_hadamard(0), dartquant::Error);
  EXPECT_THROW(plan_hadamard(-4), dartquant::Error);
  EXPECT_EQ(plan_hadamard(1).describe(), "1 (Sylvester)");
}

TEST(HadamardMatrix, ModelSizesExact) {
  for (const auto& expected : model_sizes()) {
    expect_exact_hadamard(expected.size);
  }
}

TEST(HadamardMatrix, OtherConstructionsExact) {
  // Paley II over prime and prime-square fields, Paley I over GF(3^5),
  // Williamson for m = 23 and m = 43, and a Kronecker product with Paley II.
  for (int64_t n : {12, 36, 52, 100, 244, 92, 172, 208}) {
    expect_exact_hadamard(n);
  }
}

TEST(HadamardMatrix, EntriesAreInt8KroneckerOfFactors) {
  const at::Tensor h = hadamard_matrix(224);
  EXPECT_EQ(h.scalar_type(), at::kChar);
  EXPECT_EQ(h.sizes(), (at::IntArrayRef{224, 224}));
  EXPECT_TRUE(at::equal(h, at::kron(hadamard_matrix(28), hadamard_matrix(8))));
}

TEST(HadamardNormalized, OrthogonalFloat64) {
  for (int64_t n : {8, 64, 172, 224, 688, 1368, 1408}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const at::Tensor m = normalized_hadamard(n);
    EXPECT_EQ(m.scalar_type(), at::kDouble);
    EXPECT_LE(orthogonality_error(m), 1e-12);
    const double scale = 1.0 / std::sqrt(static_cast<double>(n));
    EXPECT_LE(max_abs_difference(m.abs(), at::full({n, n}, scale, at::kDouble)), 1e-15);
  }
}

TEST(HadamardNormalized, CastsOnceToRequestedDtype) {
  const at::Tensor m32 = normalized_hadamard(224, at::kFloat);
  EXPECT_EQ(m32.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(m32, normalized_hadamard(224).to(at::kFloat)));
  EXPECT_THROW(normalized_hadamard(224, at::kLong), dartquant::Error);
}

TEST(HadamardRandom, SameSeedBitwiseEqual) {
  const at::Tensor first = random_hadamard(688, 7);
  const at::Tensor second = random_hadamard(688, 7);
  EXPECT_TRUE(at::equal(first, second));
  EXPECT_TRUE(at::equal(random_hadamard(224, 7, at::kFloat), random_hadamard(224, 7, at::kFloat)));
}

TEST(HadamardRandom, DifferentSeedDiffers) {
  EXPECT_FALSE(at::equal(random_hadamard(688, 7), random_hadamard(688, 8)));
  EXPECT_FALSE(at::equal(random_signs(64, 0), random_signs(64, 1)));
}

TEST(HadamardRandom, SignedRowsOfNormalized) {
  const int64_t n = 172;
  const at::Tensor signs = random_signs(n, 3);
  const at::Tensor r = random_hadamard(n, 3);
  EXPECT_TRUE(at::equal(r, signs.unsqueeze(1) * normalized_hadamard(n)));
  EXPECT_TRUE(at::equal(signs.abs(), at::ones({n}, at::kDouble)));
  EXPECT_LE(orthogonality_error(r), 1e-12);

  // Both signs occur in a fair share.
  const int64_t negatives = (signs < 0).sum().item<int64_t>();
  EXPECT_GT(negatives, n / 4);
  EXPECT_LT(negatives, 3 * n / 4);
}

TEST(HadamardRandom, SignsFollowStandardMersenneTwister) {
  // The C++ standard fixes the 10000th output of a default-seeded (5489)
  // std::mt19937_64 as 9981545732273789042, whose top bit is set.
  const at::Tensor signs = random_signs(10000, 5489);
  EXPECT_EQ(signs[9999].item<double>(), -1.0);
}

TEST(HadamardApply, MatchesDenseFloat64) {
  for (int64_t n : {1, 2, 8, 36, 64, 172, 224, 688, 1368, 1408}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const at::Tensor x = random_input({2, 3, n}, at::kDouble);
    const at::Tensor m = normalized_hadamard(n);
    EXPECT_LE(max_abs_difference(apply_hadamard(x, n), at::matmul(x, m)), 1e-10);
    EXPECT_LE(max_abs_difference(apply_hadamard(x, n, /*transpose=*/true), at::matmul(x, m.t())), 1e-10);
  }
}

TEST(HadamardApply, MatchesDenseFloat32) {
  for (int64_t n : {64, 172, 224, 688, 1368}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const at::Tensor x = random_input({5, n}, at::kFloat);
    const at::Tensor m = normalized_hadamard(n, at::kFloat);
    const at::Tensor y = apply_hadamard(x, n);
    EXPECT_EQ(y.scalar_type(), at::kFloat);
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_LE(max_abs_difference(y, at::matmul(x, m)), 1e-5);
    EXPECT_LE(max_abs_difference(apply_hadamard(x, n, true), at::matmul(x, m.t())), 1e-5);
  }
}

TEST(HadamardApply, LargeSizesMatchKroneckerRows) {
  // Without the dense matrix: e_i·M_n is row i of (H_K ⊗ H_P)/√n, which is
  // H_K[a, :] ⊗ H_P[b, :] for i = a·P + b, and e_i·M_nᵀ is column i.
  for (int64_t n : {10944, 11008, 13824, 14336, 20480}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const HadamardPlan plan = plan_hadamard(n);
    const int64_t p = plan.power_of_two;
    const at::Tensor outer = hadamard_matrix(plan.base_order).to(at::kDouble);
    const at::Tensor inner = hadamard_matrix(p).to(at::kDouble);
    const double scale = 1.0 / std::sqrt(static_cast<double>(n));

    for (int64_t i : {int64_t{0}, int64_t{1}, p + 3, n / 2 + 5, n - 1}) {
      SCOPED_TRACE("row " + std::to_string(i));
      const at::Tensor unit = at::zeros({1, n}, at::kDouble);
      unit[0][i] = 1.0;
      const int64_t a = i / p;
      const int64_t b = i % p;
      const at::Tensor row = at::kron(outer[a], inner[b]) * scale;
      const at::Tensor column = at::kron(outer.select(1, a), inner.select(1, b)) * scale;
      EXPECT_LE(max_abs_difference(apply_hadamard(unit, n)[0], row), 1e-12);
      EXPECT_LE(max_abs_difference(apply_hadamard(unit, n, true)[0], column), 1e-12);
    }

    // M_n·M_nᵀ = I: the transposed transform undoes the forward one.
    const at::Tensor x = random_input({2, n}, at::kDouble);
    EXPECT_LE(max_abs_difference(apply_hadamard(apply_hadamard(x, n), n, true), x), 1e-10);
  }
}

TEST(HadamardApply, RejectsWrongShapeOrDtype) {
  try {
    apply_hadamard(at::zeros({3, 223}, at::kDouble), 224);
    FAIL() << "expected dartquant::Error";
  } catch (const dartquant::Error& error) {
    EXPECT_NE(std::string(error.what()).find("n=224"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("223"), std::string::npos) << error.what();
  }
  EXPECT_THROW(apply_hadamard(at::zeros({3, 224}, at::kLong), 224), dartquant::Error);
}

TEST(HadamardFallback, BlockDiagonalWithWarning) {
  // 1340 = 4·5·67: no Paley order K = 335·2^i (1339 = 13·103, 669 = 3·223),
  // and the bounded Williamson search finds no blocks for m = 335. The largest
  // constructible divisor is 20 (Paley I, q = 19).
  const int64_t n = 1340;
  CapturedLog log;
  const HadamardPlan plan = plan_hadamard(n);
  EXPECT_EQ(plan.base, HadamardConstruction::kBlockDiagonal);
  EXPECT_EQ(plan.base_order, 20);
  ASSERT_NE(plan.block, nullptr);
  EXPECT_EQ(plan.block->base, HadamardConstruction::kPaleyI);
  EXPECT_EQ(plan.describe(), "1340 = 67 blocks of 20 (Paley I, q=19) (block-diagonal fallback)");

  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_NE(lines[0].find("1340"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("67 diagonal blocks of 20 (Paley I, q=19)"), std::string::npos) << lines[0];

  // Warned once per size: planning again (as every other call does) stays quiet.
  plan_hadamard(n);
  EXPECT_EQ(log.lines().size(), 1U);

  const at::Tensor h = hadamard_matrix(n);
  EXPECT_TRUE(verify_hadamard(h, 20));
  EXPECT_FALSE(verify_hadamard(h, n));

  const at::Tensor m = normalized_hadamard(n);
  EXPECT_LE(orthogonality_error(m), 1e-12);
  EXPECT_LE(max_abs_difference(m.slice(0, 20, 40).slice(1, 20, 40), normalized_hadamard(20)), 0.0);

  const at::Tensor x = random_input({3, n}, at::kDouble);
  EXPECT_LE(max_abs_difference(apply_hadamard(x, n), at::matmul(x, m)), 1e-10);
  EXPECT_LE(max_abs_difference(apply_hadamard(x, n, true), at::matmul(x, m.t())), 1e-10);
}

TEST(HadamardFallback, TwoModFourUsesPairs) {
  // No Hadamard matrix of order 2 (mod 4) above 2 exists, so 6 = 3 blocks of 2.
  const HadamardPlan plan = plan_hadamard(6);
  EXPECT_EQ(plan.base, HadamardConstruction::kBlockDiagonal);
  EXPECT_EQ(plan.base_order, 2);
  EXPECT_TRUE(verify_hadamard(hadamard_matrix(6), 2));
  EXPECT_LE(orthogonality_error(random_hadamard(6, 1)), 1e-12);
}

TEST(HadamardVerify, RejectsBrokenMatrices) {
  const at::Tensor good = hadamard_matrix(28);
  EXPECT_TRUE(verify_hadamard(good, 28));
  EXPECT_TRUE(verify_hadamard(good.to(at::kDouble), 28));
  EXPECT_TRUE(verify_hadamard(good.to(at::kLong), 28));

  at::Tensor flipped = good.clone();
  flipped[3][5] = -flipped[3][5];
  EXPECT_FALSE(verify_hadamard(flipped, 28));

  at::Tensor zeroed = good.clone();
  zeroed[3][5] = 0;
  EXPECT_FALSE(verify_hadamard(zeroed, 28));

  at::Tensor scaled = good.to(at::kDouble);
  scaled[0][0] = 2.0;
  EXPECT_FALSE(verify_hadamard(scaled, 28));

  // Two blocks of H_28, plus one entry outside the blocks.
  at::Tensor blocks = at::zeros({56, 56}, at::kChar);
  blocks.slice(0, 0, 28).slice(1, 0, 28).copy_(good);
  blocks.slice(0, 28, 56).slice(1, 28, 56).copy_(good);
  EXPECT_TRUE(verify_hadamard(blocks, 28));
  blocks[0][40] = 1;
  EXPECT_FALSE(verify_hadamard(blocks, 28));
}

TEST(HadamardVerify, RejectsInvalidArguments) {
  EXPECT_THROW(verify_hadamard(at::ones({4, 8}, at::kChar), 4), dartquant::Error);
  EXPECT_THROW(verify_hadamard(hadamard_matrix(28), 8), dartquant::Error);
  EXPECT_THROW(verify_hadamard(hadamard_matrix(28), 0), dartquant::Error);
}

}  // namespace
