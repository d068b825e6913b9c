// dartquant quantize: rotate and quantize a model (rtn, gptq, quarot,
// dartquant), then optionally evaluate it in the same process.
#include <chrono>

#include <unistd.h>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "cli_options.h"
#include "dartquant_cli.h"
#include "dartquant/calibration/calibration_data.h"
#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/core/memory.h"
#include "dartquant/core/progress.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/eval/results.h"
#include "dartquant/export/packed_model.h"
#include "dartquant/io/atomic_directory.h"
#include "dartquant/quant/configs_dir.h"
#include "dartquant/quant/memory_estimate.h"
#include "dartquant/quant/model_quantizer.h"
#include "evaluation.h"

namespace dartquant::cli {
namespace {

quant::WeightAlgorithm parse_weight_algorithm(const cxxopts::ParseResult& parsed, quant::Method method) {
  if (parsed.count("weight-quantizer") == 0) {
    return method == quant::Method::kRtn ? quant::WeightAlgorithm::kRtn : quant::WeightAlgorithm::kGptq;
  }
  auto text = parsed["weight-quantizer"].as<std::string>();
  if (text == "rtn") {
    return quant::WeightAlgorithm::kRtn;
  }
  if (text == "gptq") {
    return quant::WeightAlgorithm::kGptq;
  }
  throw UsageError(str("--weight-quantizer ", text, ": use rtn or gptq"));
}

at::ScalarType parse_scale_dtype(const std::string& text) {
  if (text == "float32") {
    return at::kFloat;
  }
  if (text == "float16") {
    return at::kHalf;
  }
  if (text == "bfloat16") {
    return at::kBFloat16;
  }
  throw UsageError(str("--scale-dtype ", text, ": use float32, float16 or bfloat16"));
}

std::filesystem::path calibration_file(const cxxopts::ParseResult& parsed) {
  if (parsed.count("calib-data") > 0) {
    std::filesystem::path file = parsed["calib-data"].as<std::string>();
    DQ_CHECK(std::filesystem::is_regular_file(file), file.string(), ": calibration text file not found (--calib-data)");
    return file;
  }
  auto file = resolve_data_dir(parsed) / "wikitext-2-raw" / "wiki.valid.raw";
  DQ_CHECK(std::filesystem::is_regular_file(file), file.string(),
           ": default calibration file not found; pass --calib-data FILE or a --data-dir that contains "
           "wikitext-2-raw/wiki.valid.raw");
  return file;
}


/// Half of the physical memory: the default --max-memory.
int64_t default_max_memory() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size / 2 : int64_t{8} << 30;
}

/// Quantizing a packed model again would quantize its dequantized weights a
/// second time; refuse early.
void check_not_quantized(const std::filesystem::path& model_dir) {
  auto config_path = model_dir / "config.json";
  if (std::filesystem::is_regular_file(config_path) && read_json_file(config_path).contains("quantization_config")) {
    throw UsageError(str(config_path.string(), " has a quantization_config: the model is already quantized; pass "
                         "the full-precision model folder to quantize"));
  }
}

}  // namespace

int quantize_command(int argc, char** argv) {
  cxxopts::Options options("dartquant quantize",
                           "Quantize a model with rtn, gptq, quarot or dartquant at a W-A-KV bit setting, optionally "
                           "evaluating the result in the same process");
  options.add_options()
      ("model", "Hugging Face model folder (config.json, safetensors, tokenizer) or a preset of configs/models.json, e.g. mixtral", cxxopts::value<std::string>())
      ("method", "rtn, gptq, quarot (random-Hadamard rotations + GPTQ) or dartquant (learned rotations + GPTQ)",
       cxxopts::value<std::string>()->default_value("dartquant"))
      ("bits", "Bits as W-A-KV, e.g. 4-4-16 or 4-4-4; 16 disables that quantizer",
       cxxopts::value<std::string>()->default_value("4-4-4"))
      ("profile", "Quantizer profile: paper, quarot-paper or a JSON file",
       cxxopts::value<std::string>()->default_value("paper"))
      ("set", "Override one profile field, e.g. --set weights.group_size=64 (repeatable)",
       cxxopts::value<std::vector<std::string>>())
      ("weight-quantizer", "rtn or gptq (default: rtn for --method rtn, gptq otherwise)", cxxopts::value<std::string>())
      ("calib-data", "Calibration text file (default: <data-dir>/wikitext-2-raw/wiki.valid.raw)",
       cxxopts::value<std::string>())
      ("nsamples", "Calibration windows (default: the model preset's, else 128)", cxxopts::value<int64_t>())
      ("seqlen", "Calibration window length in tokens (default: the model preset's, else 2048; at most "
       "max_position_embeddings)",
       cxxopts::value<int64_t>())
      ("seed", "Seed of the calibration windows, the random Hadamard signs and DartQuant's sampling",
       cxxopts::value<uint64_t>()->default_value("0"))
      ("calib-batch-size", "Calibration windows per forward pass", cxxopts::value<int64_t>()->default_value("8"))
      ("no-center-embeddings", "Skip embedding mean-centering (rotation methods)")
      ("output", "Write the results JSON (evaluation, settings, per-layer report) to FILE",
       cxxopts::value<std::string>())
      ("out", "Write the packed model (compressed-tensors pack-quantized, with the online transforms and "
       "quantizers for dartquant eval) to folder DIR, atomically", cxxopts::value<std::string>())
      ("overwrite", "Replace an existing --out folder")
      ("scale-dtype", "Dtype of the stored weight scales: float32 (exactly GPTQ's scales), float16 or bfloat16 "
       "(the in-process model uses the rounded scales too)", cxxopts::value<std::string>()->default_value("float32"))
      ("max-shard-size", "Largest safetensors file of --out, e.g. 5GiB; bigger models are sharded with an index",
       cxxopts::value<std::string>()->default_value("5GiB"))
      ("max-memory", "Host memory budget, e.g. 8GiB (default: half of RAM). The run estimates its need up front and "
       "stops at once when it does not fit; DartQuant's R1 chunks beyond the budget spill to disk",
       cxxopts::value<std::string>());
  EvaluationOptionNames names{"eval", "eval-seqlen"};
  add_evaluation_options(options, names, /*tasks_required=*/false);
  add_dartquant_options(options);
  add_runtime_options(options);

  auto parsed = parse_options(options, argc, argv);
  if (!parsed) {
    return 0;
  }
  auto total_start = std::chrono::steady_clock::now();
  auto resolved = resolve_model_option(*parsed);
  std::filesystem::path model_dir = resolved.dir;
  ComputeOptions compute = apply_runtime_options(*parsed);

  // Settings first, so that a mistake fails before any slow step.
  quant::QuantizeOptions quantize;
  quantize.method = quant::parse_method((*parsed)["method"].as<std::string>());
  check_dartquant_options(*parsed, quantize.method);
  quantize.weight_algorithm = parse_weight_algorithm(*parsed, quantize.method);
  quantize.profile = quant::load_profile((*parsed)["profile"].as<std::string>(), quant::locate_configs_dir());
  auto [w_bits, a_bits, kv_bits] = quant::parse_bits((*parsed)["bits"].as<std::string>());
  quant::apply_bits(quantize.profile, w_bits, a_bits, kv_bits);
  if (parsed->count("set") > 0) {
    for (const auto& assignment : (*parsed)["set"].as<std::vector<std::string>>()) {
      quant::apply_override(quantize.profile, assignment);
    }
  }
  quantize.seed = (*parsed)["seed"].as<uint64_t>();
  quantize.center_embeddings = parsed->count("no-center-embeddings") == 0;
  quantize.batch_size = (*parsed)["calib-batch-size"].as<int64_t>();
  if (quantize.batch_size <= 0) {
    throw UsageError(str("--calib-batch-size ", quantize.batch_size, ": must be positive"));
  }
  int64_t nsamples = parsed->count("nsamples") > 0 ? (*parsed)["nsamples"].as<int64_t>()
                                                   : (resolved.preset ? resolved.preset->nsamples : 128);
  if (nsamples <= 0) {
    throw UsageError(str("--nsamples ", nsamples, ": must be positive"));
  }
  bool needs_calibration = quantize.weight_algorithm == quant::WeightAlgorithm::kGptq ||
                           learns_rotations(*parsed, quantize.method);
  std::filesystem::path calib_file = needs_calibration ? calibration_file(*parsed) : std::filesystem::path();
  auto plan = plan_evaluation(*parsed, names, /*tasks_required=*/false);

  quantize.scale_dtype = parse_scale_dtype((*parsed)["scale-dtype"].as<std::string>());
  std::optional<exporter::ExportOptions> export_options;
  std::optional<exporter::PackedWeights> packed;
  if (parsed->count("out") > 0) {
    DQ_CHECK(quantize.profile.weights.spec.enabled(), "--out writes packed weights, but --bits ",
             (*parsed)["bits"].as<std::string>(), " keeps the weights at 16 bits");
    export_options.emplace();
    export_options->source_dir = model_dir;
    export_options->out_dir = (*parsed)["out"].as<std::string>();
    export_options->overwrite = parsed->count("overwrite") > 0;
    export_options->max_shard_bytes = parse_byte_size((*parsed)["max-shard-size"].as<std::string>(), "--max-shard-size");
    io::check_output_folder(export_options->out_dir, export_options->overwrite);
    packed.emplace(quantize.profile.weights.spec);
    quantize.on_weight_quantized = [&packed](const model::Linear& linear, const quant::QuantizedWeight& weight) {
      packed->add(linear, weight);
    };
  }
  check_not_quantized(model_dir);
  int64_t max_memory = parsed->count("max-memory") > 0
                           ? parse_byte_size((*parsed)["max-memory"].as<std::string>(), "--max-memory")
                           : default_max_memory();

  // Layers are read one at a time. Each is released once final, unless the
  // in-process evaluation needs it and there is no --out to load it back from.
  auto tokenizer = tokenizer::load_tokenizer(model_dir);
  auto model = model::CausalLM::load(model_dir, compute, {}, model::LayerLoading::kOnDemand);
  check_tokenizer_fits_model(*tokenizer, model.config(), model_dir);
  quantize.release_layers = plan.empty() || export_options.has_value();
  int64_t default_seqlen = resolved.preset ? resolved.preset->seqlen : 2048;
  int64_t seqlen = parsed->count("seqlen") > 0 ? (*parsed)["seqlen"].as<int64_t>()
                                               : std::min<int64_t>(default_seqlen, model.config().max_position_embeddings);
  DQ_CHECK(seqlen <= model.config().max_position_embeddings, "--seqlen ", seqlen,
           " exceeds the model's max_position_embeddings (", model.config().max_position_embeddings, ")");
  spdlog::info("quantize: method {}, bits {}, profile {}, weights by {}", quant::method_name(quantize.method),
               quant::bits_label(quantize.profile), quantize.profile.name,
               quantize.weight_algorithm == quant::WeightAlgorithm::kGptq ? "gptq" : "rtn");

  // Tokenizing the calibration text leaves its peak in the resident set, so
  // it comes before the baseline of the memory estimate.
  at::Tensor calibration;
  if (needs_calibration) {
    auto stream = calibration::calibration_stream(*tokenizer, calib_file);
    calibration = calibration::sample_windows(stream, nsamples, seqlen, quantize.seed);
    spdlog::info("calibration: {} windows of {} tokens from {} ({} tokens)", nsamples, seqlen, calib_file.string(),
                 stream.size());
  }

  quant::RunShape run_shape;
  run_shape.rotated = quantize.method == quant::Method::kQuarot || quantize.method == quant::Method::kDartquant;
  run_shape.gptq = quantize.weight_algorithm == quant::WeightAlgorithm::kGptq && quantize.profile.weights.spec.enabled();
  run_shape.learns_rotations = learns_rotations(*parsed, quantize.method);
  run_shape.release_layers = quantize.release_layers;
  run_shape.windows = needs_calibration ? nsamples : 0;
  run_shape.seqlen = seqlen;
  run_shape.batch_size = quantize.batch_size;
  run_shape.compute_dtype = compute.dtype;
  auto memory = quant::estimate_quantize_memory(model, run_shape);
  quant::check_memory_budget(memory, max_memory);
  spdlog::info("memory: about {} needed ({}), budget {}", format_mib(memory.total()), memory.describe(),
               format_mib(max_memory));

  // The output folder exists (hidden) from here on: finished layers are
  // spilled into it, so memory does not grow with depth.
  std::optional<io::AtomicDirectory> out_folder;
  if (export_options) {
    // Finished layers are staged beside the output and copied into its files
    // at the end, so the packed size is needed twice.
    int64_t packed_bytes = exporter::estimate_packed_bytes(model, quantize.profile.weights.spec, quantize.scale_dtype);
    io::check_free_space(export_options->out_dir, 2 * packed_bytes + (int64_t{16} << 20),
                         str("writing the packed model (", format_mib(packed_bytes), ", staged and then written)"));
    out_folder.emplace(export_options->out_dir, export_options->overwrite);
    auto spill = exporter::spill_folder(*out_folder);
    auto norm_dtype = model.embed_tokens.scalar_type();
    quantize.on_layer_done = [&packed, spill, norm_dtype](model::DecoderLayer& layer) {
      packed->spill_layer(layer, norm_dtype, spill);
    };
  }

  quant::QuantizeReport report;
  nlohmann::json dartquant_block;
  if (quantize.method == quant::Method::kDartquant) {
    // Rotations are learned on the preprocessed, unrotated model.
    auto storage_dtype = model.embed_tokens.scalar_type();
    auto preprocess_start = std::chrono::steady_clock::now();
    quant::preprocess_head(model, quantize);
    report.rotation_seconds = seconds_since(preprocess_start);
    int64_t chunk_memory = std::max<int64_t>(0, max_memory - memory.total());
    dartquant_block =
        prepare_dartquant_rotations(*parsed, model_dir, model, calibration, compute, quantize, chunk_memory);
    quant::quantize_layers(model, calibration, quantize, storage_dtype, &report);
  } else {
    report = quant::quantize_model(model, calibration, quantize);
  }
  double quantize_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - total_start).count();
  spdlog::info("quantized in {:.1f} s (rotations {:.1f} s, weights {:.1f} s), {} RTN fallback(s), peak RSS {}",
               quantize_seconds, report.rotation_seconds, report.weight_seconds, report.rtn_fallbacks,
               format_mib(peak_rss_bytes()));
  if (peak_rss_bytes() > max_memory) {
    spdlog::warn("peak RSS {} exceeded --max-memory {}: the estimate ({}) was short; please report it",
                 format_mib(peak_rss_bytes()), format_mib(max_memory), memory.describe());
  }

  if (export_options) {
    if (needs_calibration) {
      export_options->calibration = eval::describe_file(calib_file);
      export_options->calibration["nsamples"] = nsamples;
      export_options->calibration["seqlen"] = seqlen;
    }
    export_options->hadamard_plans = report.hadamard_plans;
    exporter::write_packed_model(model, *packed, quantize, *export_options, &*out_folder);
  }

  EvaluationOutput evaluation;
  if (!plan.empty()) {
    if (quantize.release_layers) {
      // The quantized layers were released once written; the folder holds them exactly.
      model = exporter::load_model(export_options->out_dir, compute);
    }
    evaluation = run_evaluation(*parsed, plan, model, *tokenizer);
  }

  if (parsed->count("output") > 0) {
    auto config = describe_evaluation(model_dir, *tokenizer, plan, evaluation, compute);
    config["method"] = quant::method_name(quantize.method);
    config["bits"] = quant::bits_label(quantize.profile);
    config["quantization"] = {
        {"profile", quant::profile_to_json(quantize.profile)},
        {"weight_quantizer", quantize.weight_algorithm == quant::WeightAlgorithm::kGptq ? "gptq" : "rtn"},
        {"seed", quantize.seed},
        {"center_embeddings", quantize.center_embeddings},
        {"seconds", quantize_seconds},
        {"peak_rss_bytes", peak_rss_bytes()},
        {"memory", {{"max_memory_bytes", max_memory},
                    {"estimate_bytes", memory.total()},
                    {"estimate", {{"baseline", memory.baseline},
                                  {"head", memory.head},
                                  {"layers", memory.layers},
                                  {"activations", memory.activations},
                                  {"gptq", memory.gptq},
                                  {"margin", memory.margin}}},
                    {"layers_released", quantize.release_layers}}},
        {"report", report.to_json()},
    };
    if (!dartquant_block.is_null()) {
      config["quantization"]["dartquant"] = dartquant_block;
    }
    if (needs_calibration) {
      auto file = eval::describe_file(calib_file);
      file["nsamples"] = nsamples;
      file["seqlen"] = seqlen;
      config["quantization"]["calibration"] = file;
    }
    write_run_results((*parsed)["output"].as<std::string>(), evaluation, config);
  }
  return 0;
}

}  // namespace dartquant::cli
