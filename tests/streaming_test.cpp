// Layer-by-layer quantization: a model that loads its layers on demand and
// releases each one once written must produce exactly the folder of a model
// quantized whole, and `quantize --max-memory` must either fit or stop early.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/core/json_fields.h"
#include "dartquant/eval/perplexity.h"
#include "dartquant/export/packed_model.h"
#include "dartquant/io/atomic_directory.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/quant/model_quantizer.h"
#include "test_support.h"

namespace dartquant {
namespace {

namespace fs = std::filesystem;
using testing::data_dir;
using testing::model_dir;
using testing::quoted;
using testing::run_cli;

quant::QuantizeOptions options_for(quant::Method method, const model::ModelConfig& config) {
  quant::QuantizeOptions options;
  options.method = method;
  options.profile = quant::load_profile("paper", quant::locate_configs_dir());
  quant::apply_bits(options.profile, 4, 4, 4);
  if (method == quant::Method::kDartquant) {
    // Seeded random orthogonal matrices stand in for learned rotations.
    auto generator = at::detail::createCPUGenerator(7);
    auto orthogonal = [&](std::vector<int64_t> shape) {
      auto gaussian = at::randn(shape, generator, at::TensorOptions().dtype(at::kDouble));
      return std::get<0>(at::linalg_qr(gaussian)).to(at::kFloat);
    };
    options.r1 = orthogonal({config.hidden_size, config.hidden_size});
    for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
      options.r2.push_back(orthogonal({config.num_key_value_heads, config.head_dim, config.head_dim}));
    }
  }
  return options;
}

exporter::ExportOptions export_to(const std::string& model_name, const fs::path& out) {
  exporter::ExportOptions options;
  options.source_dir = model_dir(model_name);
  options.out_dir = out;
  options.max_shard_bytes = 256 << 10;  // several shards, so shard boundaries are compared too
  return options;
}

/// The whole model in memory, quantized by the whole-model steps.
void quantize_whole(const std::string& model_name, quant::Method method, const at::Tensor& calibration,
                    const fs::path& out) {
  auto model = model::CausalLM::load(model_dir(model_name), ComputeOptions{});
  auto options = options_for(method, model.config());
  exporter::PackedWeights packed(options.profile.weights.spec);
  options.on_weight_quantized = [&packed](const model::Linear& linear, const quant::QuantizedWeight& weight) {
    packed.add(linear, weight);
  };
  quant::QuantizeReport report;
  auto storage_dtype = model.embed_tokens.scalar_type();
  quant::preprocess_model(model, options);
  quant::apply_rotations(model, options, storage_dtype, &report);
  quant::quantize_weights(model, calibration, options, &report);
  quant::enable_activation_quantization(model, options);
  auto export_options = export_to(model_name, out);
  export_options.hadamard_plans = report.hadamard_plans;
  exporter::write_packed_model(model, packed, options, export_options);
}

/// One layer at a time: loaded on demand, spilled to the output's staging
/// folder and released once final.
void quantize_streamed(const std::string& model_name, quant::Method method, const at::Tensor& calibration,
                       const fs::path& out) {
  auto model = model::CausalLM::load(model_dir(model_name), ComputeOptions{}, {}, model::LayerLoading::kOnDemand);
  auto options = options_for(method, model.config());
  auto export_options = export_to(model_name, out);
  io::AtomicDirectory folder(out, /*overwrite=*/false);
  exporter::PackedWeights packed(options.profile.weights.spec);
  options.on_weight_quantized = [&packed](const model::Linear& linear, const quant::QuantizedWeight& weight) {
    packed.add(linear, weight);
  };
  auto norm_dtype = model.embed_tokens.scalar_type();
  options.on_layer_done = [&](model::DecoderLayer& layer) {
    packed.spill_layer(layer, norm_dtype, exporter::spill_folder(folder));
  };
  options.release_layers = true;
  auto report = quant::quantize_model(model, calibration, options);

  for (auto& layer : model.layers()) {
    EXPECT_TRUE(layer.attention.q_proj.weight().is_meta()) << "layer " << layer.index() << " was not released";
  }
  export_options.hadamard_plans = report.hadamard_plans;
  exporter::write_packed_model(model, packed, options, export_options, &folder);
}

/// Per-window losses of the first 8 windows of 128 tokens of WikiText-2's
/// validation text, with the model in `dir` loaded whole or layer by layer.
std::vector<double> window_losses(const std::string& model_name, const fs::path& dir, model::LayerLoading loading) {
  auto model = exporter::load_model(dir, ComputeOptions{}, loading);
  auto windows = testing::wiki_windows(model_name, 8, 128, 5);
  std::vector<int64_t> stream(windows.data_ptr<int64_t>(), windows.data_ptr<int64_t>() + windows.numel());
  eval::PerplexityOptions options;
  options.seqlen = 128;
  options.batch_size = 3;  // a short last batch too
  options.show_progress = false;
  return eval::evaluate_perplexity(model, stream, options).window_nll;
}

void check_streaming_matches(const std::string& model_name, quant::Method method) {
  auto dir = testing::make_temp_dir("streaming");
  auto calibration = testing::wiki_windows(model_name, 8, 128, 0);
  quantize_whole(model_name, method, calibration, dir / "whole");
  quantize_streamed(model_name, method, calibration, dir / "streamed");

  // The packed model evaluated layer by layer gives the same losses.
  EXPECT_EQ(window_losses(model_name, dir / "whole", model::LayerLoading::kAll),
            window_losses(model_name, dir / "whole", model::LayerLoading::kOnDemand));
  testing::expect_same_files(dir / "whole", dir / "streamed");
  EXPECT_GT(std::distance(fs::directory_iterator(dir / "whole"), fs::directory_iterator{}), 3) << "expected shards";
  fs::remove_all(dir);
}

TEST(LayerStreaming, QuarotMoeFolderEqualsWholeModel) {
  check_streaming_matches("tiny-deepseek-moe", quant::Method::kQuarot);
}

TEST(LayerStreaming, DartquantDenseFolderEqualsWholeModel) {
  check_streaming_matches("tiny-llama-5m", quant::Method::kDartquant);
}

TEST(LayerStreaming, FpPerplexityEqualsWholeModel) {
  EXPECT_EQ(window_losses("tiny-mixtral", model_dir("tiny-mixtral"), model::LayerLoading::kAll),
            window_losses("tiny-mixtral", model_dir("tiny-mixtral"), model::LayerLoading::kOnDemand));
}

// Layers quantized in memory and kept (quantize --eval without --out) must be
// evaluated as they are, not read again from the checkpoint.
TEST(LayerStreaming, ResidentQuantizedLayersAreNotReread) {
  std::vector<std::vector<double>> losses;
  for (auto loading : {model::LayerLoading::kAll, model::LayerLoading::kOnDemand}) {
    auto model = model::CausalLM::load(model_dir("stories260K"), ComputeOptions{}, {}, loading);
    auto options = options_for(quant::Method::kQuarot, model.config());
    options.weight_algorithm = quant::WeightAlgorithm::kRtn;
    quant::quantize_model(model, at::Tensor(), options);

    auto windows = testing::wiki_windows("stories260K", 4, 128, 5);
    std::vector<int64_t> stream(windows.data_ptr<int64_t>(), windows.data_ptr<int64_t>() + windows.numel());
    eval::PerplexityOptions perplexity;
    perplexity.seqlen = 128;
    perplexity.show_progress = false;
    losses.push_back(eval::evaluate_perplexity(model, stream, perplexity).window_nll);
  }
  EXPECT_EQ(losses[0], losses[1]);
}

TEST(LayerStreaming, LoadAndReleaseLayer) {
  auto whole = model::CausalLM::load(model_dir("tiny-mixtral"), ComputeOptions{});
  auto streamed = model::CausalLM::load(model_dir("tiny-mixtral"), ComputeOptions{}, {}, model::LayerLoading::kOnDemand);
  ASSERT_TRUE(streamed.loads_layers_on_demand());
  auto& layer = streamed.layers()[1];
  EXPECT_TRUE(layer.moe->experts[0].down_proj.weight().is_meta());
  EXPECT_EQ(layer.moe->experts[0].down_proj.weight().sizes(), whole.layers()[1].moe->experts[0].down_proj.weight().sizes());

  streamed.load_layer(1);
  EXPECT_TRUE(at::equal(layer.moe->experts[0].down_proj.weight(), whole.layers()[1].moe->experts[0].down_proj.weight()));
  EXPECT_TRUE(at::equal(layer.input_layernorm, whole.layers()[1].input_layernorm));

  streamed.release_layer(1);
  EXPECT_TRUE(layer.moe->experts[0].down_proj.weight().is_meta());
}

// A --max-memory budget below the estimate stops before any slow step and
// leaves no output. Under a larger budget the estimate bounds the measured peak.
TEST(CliQuantize, MaxMemoryTooSmallStopsEarly) {
  auto dir = testing::make_temp_dir("max-memory");
  auto result = run_cli("quantize --model " + quoted(model_dir("stories260K")) + " --method quarot --nsamples 8 " +
                        "--seqlen 128 --data-dir " + quoted(data_dir()) + " --max-memory 8MiB --out " +
                        quoted(dir / "out"));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("quantize needs about"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("but --max-memory is 8 MiB; raise --max-memory"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("GPTQ on"), std::string::npos) << "GPTQ started: " << result.err;
  EXPECT_TRUE(fs::is_empty(dir)) << "output left behind";
  fs::remove_all(dir);
}

TEST(CliQuantize, MaxMemoryEstimateBoundsThePeak) {
  auto dir = testing::make_temp_dir("max-memory");
  auto result = run_cli("quantize --model " + quoted(model_dir("tiny-llama-5m")) + " --method quarot --nsamples 16 " +
                        "--seqlen 256 --data-dir " + quoted(data_dir()) + " --max-memory 4GiB --threads 1 --out " +
                        quoted(dir / "out") + " --output " + quoted(dir / "results.json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto quantization = read_json_file(dir / "results.json").at("config").at("quantization");
  int64_t peak = quantization.at("peak_rss_bytes").get<int64_t>();
  int64_t estimate = quantization.at("memory").at("estimate_bytes").get<int64_t>();
  EXPECT_TRUE(quantization.at("memory").at("layers_released").get<bool>());
  EXPECT_LE(peak, estimate) << quantization.at("memory").dump();
  EXPECT_LE(estimate, int64_t{4} << 30);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
