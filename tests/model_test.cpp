// Forward-pass exactness against the float64 references of the shared models.
#include <map>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/io/checkpoint.h"
#include "dartquant/model/causal_lm.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::model_dir;

struct Reference {
  at::Tensor input_ids;
  at::Tensor logits;
  io::Checkpoint file;
};

Reference load_reference(const std::string& name) {
  auto file = io::Checkpoint::open(model_dir(name) / "reference" / "logits.safetensors");
  return {file.load("input_ids"), file.load("logits"), file};
}

/// max |Δ| / max |reference| of the logits.
double relative_logit_error(const at::Tensor& logits, const at::Tensor& reference) {
  auto expected = reference.to(at::kDouble);
  auto difference = (logits.to(at::kDouble) - expected).abs().max().item<double>();
  return difference / expected.abs().max().item<double>();
}

class DenseLogitsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DenseLogitsTest, MatchesFloat64Reference) {
  auto reference = load_reference(GetParam());
  auto model = model::CausalLM::load(model_dir(GetParam()), ComputeOptions{});
  at::NoGradGuard no_grad;
  auto logits = model.forward(reference.input_ids);

  ASSERT_EQ(logits.sizes(), reference.logits.sizes());
  EXPECT_EQ(logits.scalar_type(), at::kFloat);
  EXPECT_LE(relative_logit_error(logits, reference.logits), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Models, DenseLogitsTest, ::testing::Values("stories260K", "tiny-llama-5m"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(DenseLogits, BatchOfOneMatchesBatchOfFour) {
  auto reference = load_reference("stories260K");
  auto model = model::CausalLM::load(model_dir("stories260K"), ComputeOptions{});
  at::NoGradGuard no_grad;
  auto batched = model.forward(reference.input_ids);
  for (int64_t row = 0; row < reference.input_ids.size(0); ++row) {
    auto single = model.forward(reference.input_ids.narrow(0, row, 1));
    EXPECT_TRUE(at::allclose(single[0], batched[row], 1e-5, 1e-5)) << "row " << row;
  }
}

TEST(DenseLogits, Float64ComputeIsCloserThanFloat32) {
  auto reference = load_reference("tiny-llama-5m");
  at::NoGradGuard no_grad;
  ComputeOptions wide;
  wide.dtype = at::kDouble;
  auto model = model::CausalLM::load(model_dir("tiny-llama-5m"), wide);
  auto logits = model.forward(reference.input_ids);
  EXPECT_EQ(logits.scalar_type(), at::kDouble);
  // The reference is float64 rounded to float32, so float64 compute agrees to float32 rounding.
  EXPECT_LE(relative_logit_error(logits, reference.logits), 1e-6);
}

/// Routing decisions of one forward pass, keyed by decoder layer.
std::map<int64_t, model::RouterDecision> capture_routing(const model::CausalLM& model, const at::Tensor& ids,
                                                         at::Tensor* logits) {
  std::map<int64_t, model::RouterDecision> decisions;
  at::NoGradGuard no_grad;
  *logits = model.forward(ids, [&](const model::RouterDecision& decision) { decisions[decision.layer] = decision; });
  return decisions;
}

class MoeLogitsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MoeLogitsTest, LogitsAndRoutingMatchFloat64Reference) {
  auto reference = load_reference(GetParam());
  auto model = model::CausalLM::load(model_dir(GetParam()), ComputeOptions{});
  at::Tensor logits;
  auto decisions = capture_routing(model, reference.input_ids, &logits);

  EXPECT_LE(relative_logit_error(logits, reference.logits), 1e-4);

  auto layer_ids = reference.file.load("moe_layer_ids");
  auto expected_indices = reference.file.load("expert_indices");
  auto expected_weights = reference.file.load("routing_weights");
  ASSERT_EQ(static_cast<int64_t>(decisions.size()), layer_ids.size(0));
  for (int64_t i = 0; i < layer_ids.size(0); ++i) {
    int64_t layer = layer_ids[i].item<int64_t>();
    SCOPED_TRACE("layer " + std::to_string(layer));
    ASSERT_EQ(decisions.count(layer), 1u);
    const auto& decision = decisions.at(layer);
    EXPECT_TRUE(at::equal(decision.expert_indices, expected_indices[i]))
        << (decision.expert_indices != expected_indices[i]).sum().item<int64_t>() << " expert choices differ";
    double weight_error =
        (decision.weights.to(at::kDouble) - expected_weights[i].to(at::kDouble)).abs().max().item<double>();
    EXPECT_LE(weight_error, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, MoeLogitsTest, ::testing::Values("tiny-mixtral", "tiny-deepseek-moe"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(MoeLogits, ShardedCheckpointIsBitwiseIdentical) {
  auto reference = load_reference("tiny-mixtral");
  auto single = model::CausalLM::load(model_dir("tiny-mixtral"), ComputeOptions{});
  auto sharded = model::CausalLM::load(model_dir("tiny-mixtral-sharded"), ComputeOptions{});
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(single.forward(reference.input_ids), sharded.forward(reference.input_ids)));
}

TEST(MoeLogits, EachExpertRunsOnlyOnItsTokens) {
  // Rerun one MoE block token by token with dense expert evaluation and
  // compare with the grouped dispatch.
  auto model = model::CausalLM::load(model_dir("tiny-deepseek-moe"), ComputeOptions{});
  const auto& block = *model.layers()[1].moe;
  at::NoGradGuard no_grad;
  auto x = at::randn({1, 7, model.config().hidden_size}, at::TensorOptions().dtype(at::kFloat));
  auto context = model.context();
  auto grouped = block.forward(x, context);

  auto tokens = x.view({7, -1});
  auto decision = block.route(tokens);
  auto expected = block.shared_experts->forward(tokens);
  for (int64_t t = 0; t < 7; ++t) {
    for (int64_t slot = 0; slot < decision.expert_indices.size(1); ++slot) {
      int64_t expert = decision.expert_indices[t][slot].item<int64_t>();
      expected[t] += decision.weights[t][slot].item<float>() * block.experts[expert].forward(tokens[t]);
    }
  }
  EXPECT_TRUE(at::allclose(grouped.view({7, -1}), expected, 1e-5, 1e-6));
}

}  // namespace
}  // namespace dartquant
