// Non-finite values during quantization stop the run where they first appear,
// naming the layer and the Linear.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/core/error.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/quant/model_quantizer.h"
#include "test_support.h"

namespace dartquant {
namespace {

TEST(NumericalGuards, OverflowNamesTheLinear) {
  auto model = model::CausalLM::load(testing::model_dir("tiny-llama-5m"), ComputeOptions{});
  // MLP inputs near 1e30 make the gate projection's Hessian (sums of squared
  // inputs) overflow float32.
  auto& layer = model.layers()[2];
  layer.post_attention_layernorm = layer.post_attention_layernorm * 1e30;

  quant::QuantizeOptions options;
  options.method = quant::Method::kGptq;
  options.profile = quant::load_profile("paper", quant::locate_configs_dir());
  quant::apply_bits(options.profile, 4, 16, 16);
  auto calibration = testing::wiki_windows("tiny-llama-5m", 8, 128, 0);

  try {
    quant::quantize_model(model, calibration, options);
    FAIL() << "quantize_model accepted non-finite activations";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("model.layers.2.mlp.gate_proj.weight: the GPTQ Hessian contains NaN or Inf"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("(layer 2)"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace dartquant
