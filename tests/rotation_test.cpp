// Rotations leave an unquantized model's function unchanged.
#include <map>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/io/checkpoint.h"
#include "dartquant/model/causal_lm.h"
#include "dartquant/quant/model_quantizer.h"
#include "dartquant/rotation/hadamard.h"
#include "dartquant/rotation/preprocess.h"
#include "dartquant/rotation/rotate.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::model_dir;

ComputeOptions float64_compute() {
  ComputeOptions options;
  options.dtype = at::kDouble;
  return options;
}

at::Tensor reference_ids(const std::string& name) {
  return io::Checkpoint::open(model_dir(name) / "reference" / "logits.safetensors").load("input_ids");
}

/// Logits and the routed experts per MoE layer.
struct Outputs {
  at::Tensor logits;
  std::map<int64_t, at::Tensor> experts;
};

Outputs run(const model::CausalLM& model, const at::Tensor& ids) {
  Outputs outputs;
  at::NoGradGuard no_grad;
  outputs.logits = model.forward(ids, [&](const model::RouterDecision& decision) {
    outputs.experts[decision.layer] = decision.expert_indices;
  });
  return outputs;
}

double relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  return (actual - expected).abs().max().item<double>() / expected.abs().max().item<double>();
}

/// The same model after preprocessing only (float64 weights, centered
/// embeddings, folded norms): the baseline the rotations must reproduce.
model::CausalLM preprocessed(const std::string& name) {
  auto model = model::CausalLM::load(model_dir(name), float64_compute());
  rotation::convert_weights(model, at::kDouble);
  rotation::center_embeddings(model);
  rotation::fold_norms(model);
  return model;
}

class RotationInvarianceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RotationInvarianceTest, QuarotRotationsKeepLogitsAndRouting) {
  auto ids = reference_ids(GetParam());
  auto baseline = run(preprocessed(GetParam()), ids);

  auto rotated = model::CausalLM::load(model_dir(GetParam()), float64_compute());
  quant::QuantizeOptions options;
  options.method = quant::Method::kQuarot;
  options.profile.key.bits = 4;  // any KV bits below 16 install R3 as well
  options.cast_to_storage_dtype = false;
  quant::rotate_model(rotated, options);
  auto outputs = run(rotated, ids);

  EXPECT_LE(relative_error(outputs.logits, baseline.logits), 1e-6);
  ASSERT_EQ(outputs.experts.size(), baseline.experts.size());
  for (const auto& [layer, experts] : baseline.experts) {
    EXPECT_TRUE(at::equal(outputs.experts.at(layer), experts)) << "layer " << layer << " routes differently";
  }
}

TEST_P(RotationInvarianceTest, OfflineR2KeepsLogits) {
  auto ids = reference_ids(GetParam());
  auto baseline = run(preprocessed(GetParam()), ids);

  auto rotated = preprocessed(GetParam());
  const auto& config = rotated.config();
  rotation::apply_r1(rotated, rotation::random_hadamard(config.hidden_size, 7));
  for (auto& layer : rotated.layers()) {
    auto r2 = rotation::random_hadamard(config.head_dim, 100 + static_cast<uint64_t>(layer.index()))
                  .unsqueeze(0)
                  .repeat({config.num_key_value_heads, 1, 1});
    rotation::apply_r2_offline(layer, config, r2);
  }
  rotation::apply_r4(rotated);
  EXPECT_LE(relative_error(run(rotated, ids).logits, baseline.logits), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Models, RotationInvarianceTest,
                         ::testing::Values("stories260K", "tiny-llama-5m", "tiny-mixtral", "tiny-deepseek-moe"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Preprocessing, FoldingNormsAloneIsExact) {
  auto ids = reference_ids("tiny-mixtral");
  auto original = model::CausalLM::load(model_dir("tiny-mixtral"), float64_compute());
  auto expected = run(original, ids);

  auto folded = model::CausalLM::load(model_dir("tiny-mixtral"), float64_compute());
  rotation::convert_weights(folded, at::kDouble);
  rotation::fold_norms(folded);
  auto outputs = run(folded, ids);
  EXPECT_LE(relative_error(outputs.logits, expected.logits), 1e-9);
  for (const auto& [layer, experts] : expected.experts) {
    EXPECT_TRUE(at::equal(outputs.experts.at(layer), experts)) << "layer " << layer;
  }
}

TEST(Preprocessing, CenteringChangesRmsNormModelsSlightly) {
  // Mean-centering is exact only under LayerNorm; under RMSNorm the logits move a little.
  auto ids = reference_ids("stories260K");
  auto original = model::CausalLM::load(model_dir("stories260K"), float64_compute());
  auto expected = run(original, ids);
  auto centered = preprocessed("stories260K");
  double error = relative_error(run(centered, ids).logits, expected.logits);
  EXPECT_GT(error, 1e-9);
  EXPECT_LT(error, 0.5);
}

}  // namespace
}  // namespace dartquant
