// Synthetic models: every architecture loads, runs and quantizes, and the
// writer is deterministic in its seed.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dartquant/export/synthetic_model.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/model/causal_lm.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::quoted;
using testing::run_cli;

exporter::SyntheticOptions small_model(const std::string& architecture, const std::filesystem::path& out) {
  exporter::SyntheticShape shape;
  shape.architecture = architecture;
  shape.layers = 3;
  shape.hidden = 64;
  shape.intermediate = 128;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.vocab = 512;
  shape.max_position = 256;
  shape.experts = 4;
  exporter::SyntheticOptions options;
  options.config = exporter::synthetic_config(shape, at::kBFloat16);
  options.out_dir = out;
  options.tokenizer_from = testing::model_dir("stories260K");
  return options;
}

TEST(SyntheticModel, EveryArchitectureLoadsAndRuns) {
  auto dir = testing::make_temp_dir("synth");
  for (const char* architecture : {"llama", "mistral", "mixtral", "deepseek"}) {
    SCOPED_TRACE(architecture);
    auto options = small_model(architecture, dir / architecture);
    auto parameters = exporter::write_synthetic_model(options);
    EXPECT_GT(parameters, 0);

    auto model = model::CausalLM::load(dir / architecture, ComputeOptions{});
    EXPECT_EQ(model.config().num_hidden_layers, 3);
    at::NoGradGuard no_grad;
    auto logits = model.forward(at::randint(0, 512, {2, 16}, at::TensorOptions().dtype(at::kLong)));
    EXPECT_EQ(logits.sizes(), at::IntArrayRef({2, 16, 512}));
    EXPECT_TRUE(logits.isfinite().all().item<bool>());
    EXPECT_TRUE(std::filesystem::exists(dir / architecture / "tokenizer.model"));
  }
  std::filesystem::remove_all(dir);
}

TEST(SyntheticModel, SameSeedWritesTheSameTensors) {
  auto dir = testing::make_temp_dir("synth-seed");
  auto first = small_model("mixtral", dir / "a");
  auto second = small_model("mixtral", dir / "b");
  second.max_shard_bytes = 100000;  // sharded, same tensors
  exporter::write_synthetic_model(first);
  exporter::write_synthetic_model(second);
  auto a = io::Checkpoint::open(dir / "a");
  auto b = io::Checkpoint::open(dir / "b");
  EXPECT_GT(b.files().size(), 1u);
  ASSERT_EQ(a.names(), b.names());
  for (const auto& name : a.names()) {
    EXPECT_TRUE(at::equal(a.load(name), b.load(name))) << name;
  }
  std::filesystem::remove_all(dir);
}

TEST(CliSynth, WritesAModelThatQuantizeAndEvalRead) {
  auto dir = testing::make_temp_dir("cli-synth");
  auto written = run_cli("synth --arch deepseek --layers 2 --hidden 64 --intermediate 128 --heads 4 --kv-heads 4 "
                         "--vocab 512 --max-position 256 --experts 4 --tokenizer-from " +
                         quoted(testing::model_dir("stories260K")) + " --out " + quoted(dir / "model"));
  ASSERT_EQ(written.exit_code, 0) << written.err;
  auto quantized = run_cli("quantize --model " + quoted(dir / "model") + " --method rtn --bits 4-4-4 --eval wiki "
                           "--limit 2 --data-dir " + quoted(testing::data_dir()) + " --threads 1");
  EXPECT_EQ(quantized.exit_code, 0) << quantized.err;

  auto bad = run_cli("synth --arch gpt2 --out " + quoted(dir / "bad"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir / "bad"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
