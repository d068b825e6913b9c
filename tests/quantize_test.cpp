// The quantization pipeline on real models: GPTQ against RTN on real layers,
// and the quantize command end to end.
#include <fstream>
#include <map>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/calibration/calibration_data.h"
#include "dartquant/eval/text_corpus.h"
#include "dartquant/model/causal_lm.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/quant/gptq.h"
#include "dartquant/quant/hessian.h"
#include "dartquant/quant/profile.h"
#include "dartquant/quant/weight_quantizer.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::data_dir;
using testing::model_dir;
using testing::run_cli;

using testing::quoted;

/// Inputs of each Linear of decoder layer `layer_index` on calibration text.
std::map<std::string, at::Tensor> capture_inputs(model::CausalLM& model, int64_t layer_index) {
  auto tokenizer = tokenizer::load_tokenizer(model_dir("tiny-llama-5m"));
  auto stream = calibration::calibration_stream(*tokenizer, data_dir() / "wikitext-2-raw" / "wiki.valid.raw");
  auto windows = calibration::sample_windows(stream, 8, 256, 0);

  std::map<std::string, at::Tensor> inputs;
  auto& layer = model.layers()[static_cast<size_t>(layer_index)];
  layer.for_each_linear([&](model::Linear& linear) {
    linear.set_input_observer([&inputs](const model::Linear& seen, const at::Tensor& x) {
      inputs[seen.name()] = x.reshape({-1, x.size(-1)}).clone();
    });
  });
  at::NoGradGuard no_grad;
  model.forward(windows);
  layer.for_each_linear([](model::Linear& linear) { linear.set_input_observer({}); });
  return inputs;
}

TEST(GptqOnRealLayers, LowersOutputErrorComparedWithRtn) {
  auto model = model::CausalLM::load(model_dir("tiny-llama-5m"), ComputeOptions{});
  auto profile = quant::load_profile("paper", quant::locate_configs_dir());
  auto inputs = capture_inputs(model, 2);
  ASSERT_FALSE(inputs.empty());

  auto& layer = model.layers()[2];
  layer.for_each_linear([&](model::Linear& linear) {
    SCOPED_TRACE(linear.name());
    const auto& x = inputs.at(linear.name());
    auto weight = linear.weight().to(at::kFloat);
    quant::HessianAccumulator hessian(linear.in_features());
    hessian.add(x);

    auto rtn = quant::quantize_weight_rtn(weight, profile.weights);
    auto gptq = quant::gptq_quantize(weight, hessian.hessian(), profile.weights, profile.gptq, linear.name());
    auto reference = at::matmul(x, weight.t());
    double rtn_error = (at::matmul(x, rtn.dequantized.t()) - reference).pow(2).sum().item<double>();
    double gptq_error = (at::matmul(x, gptq.weight.dequantized.t()) - reference).pow(2).sum().item<double>();
    EXPECT_LT(gptq_error, rtn_error);
  });
}

TEST(CliQuantize, UnknownMethodIsUsageError) {
  auto result = run_cli("quantize --model " + quoted(model_dir("stories260K")) + " --method awq");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--method awq"), std::string::npos) << result.err;
}

TEST(CliQuantize, InvalidBitsIsUsageError) {
  auto result = run_cli("quantize --model " + quoted(model_dir("stories260K")) + " --bits 4-4");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("4-4"), std::string::npos) << result.err;
}

TEST(CliQuantize, UnknownProfileFieldIsUsageError) {
  auto result = run_cli("quantize --model " + quoted(model_dir("stories260K")) + " --set weights.colour=blue");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("weights.colour"), std::string::npos) << result.err;
}

TEST(CliQuantize, MissingCalibrationFileIsReported) {
  auto result = run_cli("quantize --model " + quoted(model_dir("stories260K")) +
                        " --method gptq --calib-data /nonexistent/calib.txt");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("/nonexistent/calib.txt"), std::string::npos) << result.err;
}

/// Quantizes stories260K at 4-4-4 and returns the WikiText-2 perplexity of
/// the first 40 windows of 512 tokens.
double quantized_perplexity(const std::string& method, const std::filesystem::path& output) {
  auto result = run_cli("quantize --model " + quoted(model_dir("stories260K")) + " --method " + method +
                        " --bits 4-4-4 --nsamples 16 --seqlen 512 --eval wiki --eval-seqlen 512 --limit 40" +
                        " --data-dir " + quoted(data_dir()) + " --output " + quoted(output));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::ifstream in(output);
  auto json = nlohmann::json::parse(in);
  EXPECT_EQ(json["config"]["method"].get<std::string>(), method);
  EXPECT_EQ(json["config"]["bits"].get<std::string>(), "4-4-4");
  EXPECT_EQ(json["results"]["wiki"]["windows"].get<int64_t>(), 40);
  return json["results"]["wiki"]["ppl"].get<double>();
}

TEST(CliQuantize, QuarotBeatsRtnAtW4A4KV4) {
  // stories260K is the shared model that 4-bit quantization hurts enough to rank methods.
  auto dir = testing::make_temp_dir("dq-quantize");
  double rtn = quantized_perplexity("rtn", dir / "rtn.json");
  double quarot = quantized_perplexity("quarot", dir / "quarot.json");

  auto fp = run_cli("eval --model " + quoted(model_dir("stories260K")) + " --seqlen 512 --limit 40 --data-dir " +
                    quoted(data_dir()) + " --output " + quoted(dir / "fp.json"));
  ASSERT_EQ(fp.exit_code, 0) << fp.err;
  std::ifstream in(dir / "fp.json");
  double full_precision = nlohmann::json::parse(in)["results"]["wiki"]["ppl"].get<double>();

  EXPECT_GT(rtn, full_precision * 1.2) << "RTN 4-4-4 should hurt stories260K";
  EXPECT_LT(quarot, rtn * 0.95) << "QuaRot should recover part of RTN's loss";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
