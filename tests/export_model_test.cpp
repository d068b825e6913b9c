// Packed models end to end on real checkpoints. Each test quantizes in process,
// writes the folder, loads it again and compares logits bit for bit. Others
// check the size bound, and the CLI (quantize --out, eval, inspect) and its errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/calibration/calibration_data.h"
#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/export/inspect.h"
#include "dartquant/export/packed_model.h"
#include "dartquant/io/atomic_directory.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/io/safetensors_writer.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/quant/model_quantizer.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "test_support.h"

namespace dartquant {
namespace {

using testing::data_dir;
using testing::model_dir;
using testing::quoted;
using testing::run_cli;

/// Returns a seeded random orthogonal matrix [n, n] (or [groups, n, n]) in float32.
at::Tensor random_orthogonal(std::vector<int64_t> shape, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  auto q = std::get<0>(at::linalg_qr(at::randn(shape, generator, at::TensorOptions().dtype(at::kDouble))));
  return q.to(at::kFloat);
}

struct RoundTrip {
  at::Tensor in_process_logits;
  at::Tensor reloaded_logits;
  std::filesystem::path folder;
};

/// Quantizes `model_name` with `options` (dartquant: random orthogonal R1/R2
/// stand in for learned ones), writes it packed, reloads it, and returns the
/// logits of both on held-out windows.
RoundTrip quantize_write_reload(const std::string& model_name, quant::QuantizeOptions options, int64_t max_shard_bytes,
                                const std::filesystem::path& folder) {
  ComputeOptions compute;
  auto model = model::CausalLM::load(model_dir(model_name), compute);
  auto calibration = testing::wiki_windows(model_name, 8, 128, 0);  // 1024 tokens: more than any input width

  exporter::PackedWeights packed(options.profile.weights.spec);
  options.on_weight_quantized = [&packed](const model::Linear& linear, const quant::QuantizedWeight& weight) {
    packed.add(linear, weight);
  };
  quant::QuantizeReport report;
  if (options.method == quant::Method::kDartquant) {
    const auto& config = model.config();
    options.r1 = random_orthogonal({config.hidden_size, config.hidden_size}, 1);
    for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
      options.r2.push_back(random_orthogonal({config.num_key_value_heads, config.head_dim, config.head_dim},
                                             static_cast<uint64_t>(layer + 2)));
    }
    auto storage_dtype = model.embed_tokens.scalar_type();
    quant::preprocess_model(model, options);
    quant::apply_rotations(model, options, storage_dtype, &report);
    quant::quantize_weights(model, calibration, options, &report);
    quant::enable_activation_quantization(model, options);
  } else {
    report = quant::quantize_model(model, calibration, options);
  }

  exporter::ExportOptions export_options;
  export_options.source_dir = model_dir(model_name);
  export_options.out_dir = folder;
  export_options.max_shard_bytes = max_shard_bytes;
  export_options.hadamard_plans = report.hadamard_plans;
  exporter::write_packed_model(model, packed, options, export_options);

  auto windows = testing::wiki_windows(model_name, 2, 96, 99);
  at::NoGradGuard no_grad;
  RoundTrip result;
  result.in_process_logits = model.forward(windows);
  auto reloaded = exporter::load_model(folder, compute);
  result.reloaded_logits = reloaded.forward(windows);
  result.folder = folder;
  return result;
}

quant::QuantizeOptions paper_options(quant::Method method, const std::string& bits) {
  quant::QuantizeOptions options;
  options.method = method;
  options.profile = quant::load_profile("paper", quant::locate_configs_dir());
  auto [w, a, kv] = quant::parse_bits(bits);
  quant::apply_bits(options.profile, w, a, kv);
  return options;
}

TEST(PackedModel, DenseQuarotGptqReloadsBitwiseAndMeetsTheSizeBound) {
  auto dir = testing::make_temp_dir("packed-dense");
  auto options = paper_options(quant::Method::kQuarot, "4-4-4");
  auto result = quantize_write_reload("tiny-llama-5m", options, int64_t{5} << 30, dir / "llama");

  ASSERT_TRUE(result.in_process_logits.isfinite().all().item<bool>());
  EXPECT_TRUE(at::equal(result.in_process_logits, result.reloaded_logits));

  // Size: at most 0.30 × the fp16 Linear weights, plus the tensors kept as they were.
  auto summary = exporter::summarize_folder(result.folder);
  EXPECT_GT(summary.packed_parameters, 0);
  EXPECT_LE(static_cast<double>(summary.file_bytes),
            0.30 * static_cast<double>(summary.fp16_linear_bytes()) + static_cast<double>(summary.kept_bytes));
  EXPECT_TRUE(std::filesystem::exists(result.folder / "tokenizer.model"));
  std::filesystem::remove_all(dir);
}

TEST(PackedModel, MoeDartquantAsymmetricBf16ScalesShardedReloadsBitwise) {
  auto dir = testing::make_temp_dir("packed-moe");
  auto options = paper_options(quant::Method::kDartquant, "4-4-4");
  options.weight_algorithm = quant::WeightAlgorithm::kRtn;
  options.profile.weights.spec.symmetric = false;
  options.profile.weights.spec.group_size = 24;  // does not divide the widths: a short last group
  options.scale_dtype = at::kBFloat16;
  auto result = quantize_write_reload("tiny-deepseek-moe", options, int64_t{1} << 20, dir / "moe");

  EXPECT_TRUE(at::equal(result.in_process_logits, result.reloaded_logits));
  EXPECT_TRUE(std::filesystem::exists(result.folder / "model.safetensors.index.json"));
  auto checkpoint = io::Checkpoint::open(result.folder);
  EXPECT_GT(checkpoint.files().size(), 1u);
  EXPECT_TRUE(checkpoint.contains("model.layers.1.mlp.experts.0.gate_proj.weight_zero_point"));
  EXPECT_EQ(checkpoint.info("model.layers.1.mlp.experts.0.gate_proj.weight_scale").dtype, io::DType::BF16);
  EXPECT_TRUE(checkpoint.contains("model.layers.1.mlp.gate.weight"));  // the router stays dense

  auto config = read_json_file(result.folder / "config.json");
  const auto& groups = config["quantization_config"]["config_groups"];
  EXPECT_EQ(groups["group_1"]["input_activations"]["group_size"], 16);  // o_proj per head under offline R2
  EXPECT_EQ(config["dartquant"]["method"], "dartquant");
  std::filesystem::remove_all(dir);
}

TEST(PackedModel, CorruptFoldersGiveClearErrors) {
  auto dir = testing::make_temp_dir("packed-corrupt");
  auto options = paper_options(quant::Method::kQuarot, "4-4-16");
  options.weight_algorithm = quant::WeightAlgorithm::kRtn;
  auto folder = quantize_write_reload("stories260K", options, int64_t{5} << 30, dir / "model").folder;
  auto checkpoint = io::Checkpoint::open(folder);

  // A missing scale names the tensor.
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& name : checkpoint.names()) {
    if (name != "model.layers.0.self_attn.q_proj.weight_scale") {
      tensors.emplace_back(name, checkpoint.load(name));
    }
  }
  auto broken = dir / "broken";
  std::filesystem::copy(folder, broken);
  io::write_safetensors(broken / "model.safetensors", tensors);
  try {
    exporter::load_model(broken, ComputeOptions{});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("model.layers.0.self_attn.q_proj.weight_scale"), std::string::npos)
        << error.what();
  }

  // An unknown format version.
  auto future = dir / "future";
  std::filesystem::copy(folder, future);
  auto config = read_json_file(future / "config.json");
  config["dartquant"]["format_version"] = 99;
  testing::write_file(future / "config.json", config.dump());
  EXPECT_THROW(exporter::load_model(future, ComputeOptions{}), Error);
  EXPECT_THROW(exporter::summarize_folder(future), Error);  // inspect rejects it too

  // A norm that is not ones under norms_folded.
  auto edited = dir / "edited";
  std::filesystem::copy(folder, edited);
  tensors.clear();
  for (const auto& name : checkpoint.names()) {
    auto tensor = checkpoint.load(name);
    tensors.emplace_back(name, name == "model.norm.weight" ? tensor * 2 : tensor);
  }
  io::write_safetensors(edited / "model.safetensors", tensors);
  EXPECT_THROW(exporter::load_model(edited, ComputeOptions{}), Error);
  std::filesystem::remove_all(dir);
}

TEST(AtomicDirectory, LeavesNothingWithoutCommitAndRemovesStaleStaging) {
  auto dir = testing::make_temp_dir("atomic-dir");
  {
    io::AtomicDirectory folder(dir / "out", false);
    testing::write_file(folder.staging() / "a.txt", "a");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  EXPECT_TRUE(std::filesystem::is_empty(dir));

  // A staging folder of a process that no longer exists (pid 2^22 + 1 is above pid_max's default).
  std::filesystem::create_directory(dir / ".out.partial-4194305");
  io::AtomicDirectory folder(dir / "out", false);
  EXPECT_FALSE(std::filesystem::exists(dir / ".out.partial-4194305"));
  testing::write_file(folder.staging() / "a.txt", "a");
  folder.commit();
  EXPECT_EQ(testing::read_file(dir / "out" / "a.txt"), "a");

  EXPECT_THROW(io::AtomicDirectory(dir / "out", false), Error);

  // A file where the folder or its parent should be.
  testing::write_file(dir / "file", "x");
  for (const auto& target : {dir / "file", dir / "file" / "out"}) {
    try {
      io::check_output_folder(target, true);
      ADD_FAILURE() << "expected an error for " << target;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("is a file, not a folder"), std::string::npos) << error.what();
    }
  }
  io::AtomicDirectory replacement(dir / "out", true);
  testing::write_file(replacement.staging() / "b.txt", "b");
  replacement.commit();
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "a.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "b.txt"));
  std::filesystem::remove_all(dir);
}

TEST(CliPacked, QuantizeOutThenEvalGivesTheSamePerplexityAndInspectReportsIt) {
  auto dir = testing::make_temp_dir("cli-packed");
  auto model = quoted(model_dir("stories260K"));
  auto common = " --data-dir " + quoted(data_dir()) + " --threads 1 --limit 40";
  auto quantized = run_cli("quantize --model " + model + " --method quarot --nsamples 8 --out " +
                           quoted(dir / "packed") + " --eval wiki --output " + quoted(dir / "q.json") + common);
  ASSERT_EQ(quantized.exit_code, 0) << quantized.err;
  auto evaluated = run_cli("eval --model " + quoted(dir / "packed") + " --tasks wiki --output " +
                           quoted(dir / "e.json") + common);
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  auto q = nlohmann::json::parse(testing::read_file(dir / "q.json"));
  auto e = nlohmann::json::parse(testing::read_file(dir / "e.json"));
  EXPECT_EQ(q["results"]["wiki"]["nll"].get<double>(), e["results"]["wiki"]["nll"].get<double>());
  EXPECT_EQ(e["config"]["method"], "quarot");

  auto inspected = run_cli("inspect " + quoted(dir / "packed"));
  ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
  for (const char* expected : {"quarot 4-4-4", "bits per parameter", "lm_head.weight", "int4"}) {
    EXPECT_NE(inspected.out.find(expected), std::string::npos) << expected << "\n" << inspected.out;
  }

  // Writing over the folder needs --overwrite, fails before any work, and leaves it as it was.
  auto again = run_cli("quantize --model " + model + " --method rtn --out " + quoted(dir / "packed") + common);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
  // A packed model is not quantized twice.
  auto twice = run_cli("quantize --model " + quoted(dir / "packed") + " --method rtn" + common);
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("already quantized"), std::string::npos) << twice.err;
  // --out needs quantized weights.
  auto w16 = run_cli("quantize --model " + model + " --method rtn --bits 16-4-4 --out " + quoted(dir / "w16") + common);
  EXPECT_NE(w16.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "w16"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dartquant
