// DartQuant's building blocks on synthetic input: the Whip∘QR gradient against
// finite differences, the seeded helpers, the chunk store and the settings file.
#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/calibration/chunk_store.h"
#include "dartquant/calibration/dartquant_settings.h"
#include "dartquant/calibration/rotation_trainer.h"
#include "dartquant/calibration/rotations_file.h"
#include "dartquant/calibration/seeding.h"
#include "dartquant/calibration/whip.h"
#include "dartquant/core/error.h"
#include "dartquant/quant/configs_dir.h"
#include "test_support.h"

namespace dartquant {
namespace {

using calibration::RotationShape;

/// Computes the loss head by head, independently of the trainer's batched
/// layout: mean over tokens of Σ exp(−|x_j·R[j / rep]|) over heads j.
double reference_loss(const at::Tensor& z, const RotationShape& shape, const at::Tensor& x) {
  auto r = std::get<0>(at::linalg_qr(z, "reduced"));
  double total = 0;
  for (int64_t head = 0; head < shape.groups * shape.rep; ++head) {
    auto block = x.narrow(1, head * shape.n, shape.n);
    total += at::exp(-at::abs(at::matmul(block, r[head / shape.rep]))).sum().item<double>();
  }
  return total / static_cast<double>(x.size(0));
}

void expect_gradient_matches_finite_differences(const RotationShape& shape, int64_t tokens) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  auto options = at::TensorOptions().dtype(at::kDouble);
  auto z = at::randn({shape.groups, shape.n, shape.n}, generator, options);
  auto x = at::randn({tokens, shape.width()}, generator, options);

  auto [loss, gradient] = calibration::whip_qr_gradient(z, shape, x);
  EXPECT_NEAR(loss, reference_loss(z, shape, x), 1e-12 * std::abs(loss));

  const double step = 1e-6;
  auto numeric = at::zeros_like(z);
  auto flat = z.reshape(-1);
  for (int64_t i = 0; i < flat.numel(); ++i) {
    auto plus = flat.clone();
    auto minus = flat.clone();
    plus[i] += step;
    minus[i] -= step;
    numeric.reshape(-1)[i] = (reference_loss(plus.view_as(z), shape, x) - reference_loss(minus.view_as(z), shape, x)) /
                             (2 * step);
  }
  double scale = numeric.abs().max().item<double>();
  EXPECT_LT((gradient - numeric).abs().max().item<double>(), 1e-6 * scale)
      << "analytic\n" << gradient << "\nnumeric\n" << numeric;
}

TEST(WhipQr, GradientMatchesFiniteDifferencesForR1) { expect_gradient_matches_finite_differences({1, 1, 8}, 24); }

TEST(WhipQr, GradientMatchesFiniteDifferencesForGroupedR2) {
  // Two KV heads, two query heads each, head dim 4.
  expect_gradient_matches_finite_differences({2, 2, 4}, 12);
}

TEST(WhipQr, AnalyticWhipGradientEqualsAutograd) {
  auto y = at::randn({16, 10}, at::TensorOptions().dtype(at::kDouble));
  y[0][0] = 0.0;  // the subgradient at zero must agree too
  auto leaf = y.clone();
  leaf.set_requires_grad(true);
  calibration::whip_loss(leaf).backward();
  auto expected = calibration::whip_gradient(y) / static_cast<double>(y.size(0));
  EXPECT_TRUE(at::allclose(leaf.grad(), expected, 1e-12, 1e-14));
  EXPECT_EQ(leaf.grad()[0][0].item<double>(), 0.0);
}

TEST(WhipQr, WhipLossByHand) {
  auto y = at::tensor({0.0, -1.0, 2.0, 0.5}, at::TensorOptions().dtype(at::kDouble)).reshape({2, 2});
  double expected = ((1.0 + std::exp(-1.0)) + (std::exp(-2.0) + std::exp(-0.5))) / 2.0;
  EXPECT_NEAR(calibration::whip_loss(y).item<double>(), expected, 1e-15);
}

/// Trains R1 from the identity on synthetic activations of `width` columns in
/// chunks of 64 tokens, with channel 1 scaled up as an outlier: the kind of
/// distribution the Whip loss is meant to flatten.
calibration::TrainResult train_on_outliers(int64_t chunks, int64_t width, const calibration::OptimizerSettings& settings) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  auto x = at::randn({chunks * 64, width}, generator, at::TensorOptions().dtype(at::kFloat));
  x.select(1, 1).mul_(12.0);

  calibration::ChunkSource source{chunks, [&x](int64_t i) { return x.narrow(0, i * 64, 64); }};
  auto start = at::eye(width, at::TensorOptions().dtype(at::kFloat)).unsqueeze(0);
  return calibration::train_rotation(start, {1, 1, width}, source, settings, 0);
}

TEST(WhipQr, TrainingLowersLossAndKeepsOrthogonality) {
  auto result = train_on_outliers(4, 16, {"sgd", 0.05, 0.9, 20, 2, 1});
  EXPECT_LT(result.trained.whip, result.initial.whip);
  EXPECT_LT(result.trained.int4_error, result.initial.int4_error);
  EXPECT_LE(calibration::orthogonality_error(result.rotation), 1e-5);
  ASSERT_EQ(result.epoch_loss.size(), 20u);
  EXPECT_LT(result.epoch_loss.back(), result.epoch_loss.front());
}

TEST(WhipQr, AdamAlsoTrains) {
  auto result = train_on_outliers(2, 8, {"adam", 0.01, 0.9, 10, 1, 2});
  EXPECT_LT(result.trained.whip, result.initial.whip);
  EXPECT_LE(calibration::orthogonality_error(result.rotation), 1e-5);
}

TEST(WhipQr, NonFiniteActivationsStopTraining) {
  auto x = at::randn({64, 8}, at::TensorOptions().dtype(at::kFloat));
  x[3][2] = std::numeric_limits<float>::quiet_NaN();
  calibration::ChunkSource source{1, [&x](int64_t) { return x; }};
  auto start = at::eye(8, at::TensorOptions().dtype(at::kFloat)).unsqueeze(0);
  try {
    calibration::train_rotation(start, {1, 1, 8}, source, {}, 0, {}, "R2 of layer 3");
    ADD_FAILURE() << "training on NaN activations did not stop";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("R2 of layer 3"), std::string::npos) << error.what();
  }
}

TEST(OptimizerSettings, RejectsBadValues) {
  calibration::OptimizerSettings settings;
  settings.optimizer = "lbfgs";
  EXPECT_THROW(calibration::validate(settings, "R1"), UsageError);
  settings = {};
  settings.learning_rate = 0;
  EXPECT_THROW(calibration::validate(settings, "R1"), UsageError);
  settings = {};
  settings.accumulation = 0;
  EXPECT_THROW(calibration::validate(settings, "R2"), UsageError);
}

TEST(Seeding, PermutationIsSeededAndComplete) {
  auto a = calibration::seeded_permutation(100, 5);
  auto b = calibration::seeded_permutation(100, 5);
  auto c = calibration::seeded_permutation(100, 6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  }
  EXPECT_NE(calibration::derive_seed(0, 1), calibration::derive_seed(0, 2));
  EXPECT_NE(calibration::derive_seed(0, 1), calibration::derive_seed(1, 1));
}

TEST(ChunkStore, SpillsBeyondBudgetAndReadsBackExactly) {
  auto dir = testing::make_temp_dir("dq-chunks");
  auto chunk_bytes = int64_t{4} * 3 * static_cast<int64_t>(sizeof(float));
  calibration::ChunkStore store(4, 3, 2 * chunk_bytes, dir);
  std::vector<at::Tensor> chunks;
  for (int i = 0; i < 5; ++i) {
    chunks.push_back(at::randn({4, 3}, at::TensorOptions().dtype(at::kDouble)));
    store.add(chunks.back());
  }
  EXPECT_EQ(store.size(), 5);
  EXPECT_EQ(store.bytes_in_memory(), 2 * chunk_bytes);
  EXPECT_EQ(store.bytes_on_disk(), 3 * chunk_bytes);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(at::equal(store.get(i), chunks[static_cast<size_t>(i)].to(at::kFloat))) << "chunk " << i;
  }
  // The spill file is unlinked at creation: nothing is left in the folder.
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  EXPECT_THROW(store.add(at::zeros({2, 3})), Error);
  EXPECT_THROW(store.get(5), Error);
  std::filesystem::remove_all(dir);
}

model::ModelConfig config_with(const std::string& model_type, int64_t hidden, int64_t layers, int64_t vocab) {
  model::ModelConfig config;
  config.model_type = model_type;
  config.hidden_size = hidden;
  config.num_hidden_layers = layers;
  config.vocab_size = vocab;
  return config;
}

TEST(DartQuantSettings, PresetsFollowTheModel) {
  auto file = quant::locate_configs_dir() / "dartquant.json";
  auto llama3 = calibration::load_dartquant_settings(file, config_with("llama", 4096, 32, 128256));
  EXPECT_EQ(llama3.preset, "llama-3-8b");
  EXPECT_DOUBLE_EQ(llama3.r1.learning_rate, 0.008);
  EXPECT_DOUBLE_EQ(llama3.r2.learning_rate, 0.001);
  EXPECT_EQ(llama3.r2.accumulation, 2);
  EXPECT_EQ(llama3.r1.batch, 64);
  EXPECT_EQ(llama3.r1.epochs, 10);

  auto llama2_13b = calibration::load_dartquant_settings(file, config_with("llama", 5120, 40, 32000));
  EXPECT_DOUBLE_EQ(llama2_13b.r1.learning_rate, 0.01);

  auto mixtral = calibration::load_dartquant_settings(file, config_with("mixtral", 4096, 32, 32000));
  EXPECT_EQ(mixtral.preset, "mixtral");
  EXPECT_EQ(mixtral.r1_lr_sweep, (std::vector<double>{0.001, 0.002, 0.008}));

  auto other = calibration::load_dartquant_settings(file, config_with("mistral", 64, 5, 512));
  EXPECT_EQ(other.preset, "defaults");
  EXPECT_DOUBLE_EQ(other.r1.learning_rate, 0.002);
  EXPECT_DOUBLE_EQ(other.r1_fraction, 0.1);
}

TEST(DartQuantSettings, MalformedFileNamesTheField) {
  auto dir = testing::make_temp_dir("dq-settings");
  auto file = dir / "dartquant.json";
  testing::write_file(file, R"({"defaults": {"r1": {"learning_rat": 0.1}}, "presets": []})");
  try {
    calibration::load_dartquant_settings(file, config_with("llama", 64, 5, 512));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("defaults.r1.learning_rat"), std::string::npos) << error.what();
  }
  testing::write_file(file, R"({"defaults": {"r1": {"learning_rate": -1}}, "presets": []})");
  EXPECT_THROW(calibration::load_dartquant_settings(file, config_with("llama", 64, 5, 512)), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
