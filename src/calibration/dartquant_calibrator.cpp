#include "dartquant/calibration/dartquant_calibrator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "calibration_state.h"
#include "dartquant/calibration/chunk_store.h"
#include "dartquant/calibration/seeding.h"
#include "dartquant/core/error.h"
#include "dartquant/core/memory.h"
#include "dartquant/core/progress.h"
#include "dartquant/rotation/hadamard.h"
#include "dartquant/rotation/preprocess.h"

namespace dartquant::calibration {
namespace {

using model::Linear;
using model::LinearRole;

// Independent random streams of one seed (derive_seed).
constexpr uint64_t kR1SubsetStream = 1;
constexpr uint64_t kR1TrainStream = 2;
constexpr uint64_t kR2StartStream = 1000;  // + layer: the R2 start of each layer
constexpr uint64_t kR2TrainStream = 2000;  // + layer

/// R1 sites: the two normalized residuals a decoder layer reads.
enum Site : int64_t { kAttentionInput = 0, kMlpInput = 1, kSites = 2 };

/// The Linear whose input is the layer's MLP/MoE-block input: the router of a
/// MoE block (every routed expert receives a subset of it), else the dense gate.
Linear& mlp_input_linear(model::DecoderLayer& layer) { return layer.is_moe() ? layer.moe->router : layer.mlp->gate_proj; }

/// Chooses the seeded fraction of (sequence, layer, site) chunks that R1 trains on.
/// Chunk id = (layer·kSites + site)·windows + sequence.
std::set<int64_t> choose_r1_chunks(int64_t windows, int64_t layers, double fraction, uint64_t seed) {
  int64_t total = windows * layers * kSites;
  auto keep = std::max<int64_t>(1, static_cast<int64_t>(std::llround(fraction * static_cast<double>(total))));
  auto order = seeded_permutation(total, derive_seed(seed, kR1SubsetStream));
  return {order.begin(), order.begin() + std::min(keep, total)};
}

void log_stats(const std::string& what, const RotationStats& initial, const RotationStats& trained,
               double seconds) {
  spdlog::info("{}: Whip {:.4f} → {:.4f} ({:+.2f}%), int4 error {:.5f} → {:.5f} ({:+.2f}%), {:.1f} s", what,
               initial.whip, trained.whip, 100.0 * (trained.whip / initial.whip - 1.0), initial.int4_error,
               trained.int4_error, 100.0 * (trained.int4_error / initial.int4_error - 1.0), seconds);
}

/// Trains R1 at every candidate learning rate and keeps the lowest final Whip loss.
TrainResult train_r1(const ChunkStore& store, const model::ModelConfig& config, const CalibrationOptions& options,
                     CalibrationReport* report) {
  const auto& settings = options.settings;
  RotationShape shape{1, 1, config.hidden_size};
  ChunkSource source{store.size(), [&store](int64_t i) { return store.get(i); }};
  auto start = rotation::random_hadamard(config.hidden_size, options.seed, at::kFloat).unsqueeze(0);

  std::vector<double> rates = settings.r1_lr_sweep.empty() ? std::vector<double>{settings.r1.learning_rate}
                                                            : settings.r1_lr_sweep;
  TrainResult best;
  for (double rate : rates) {
    auto r1_settings = settings.r1;
    r1_settings.learning_rate = rate;
    spdlog::info("R1: {} chunks of {} tokens, {} epochs, batch {}, {} lr {}", store.size(),
                 store.rows(), r1_settings.epochs, r1_settings.batch,
                 r1_settings.optimizer, rate);
    auto result = train_rotation(start, shape, source, r1_settings, derive_seed(options.seed, kR1TrainStream),
                                 [&](int64_t epoch, double loss, double seconds) {
                                   spdlog::info("R1 epoch {}/{}: Whip {:.5f}, {:.1f} s", epoch + 1,
                                                r1_settings.epochs, loss, seconds);
                                 },
                                 "R1");
    log_stats(str("R1 (lr ", rate, ")"), result.initial, result.trained, result.seconds);
    report->r1_sweep.emplace_back(rate, result.trained.whip);
    if (!best.rotation.defined() || result.trained.whip < best.trained.whip) {
      best = std::move(result);
      report->r1_learning_rate = rate;
    }
  }
  if (rates.size() > 1) {
    spdlog::info("R1 learning-rate sweep: {} gives the lowest final Whip loss ({:.5f})", report->r1_learning_rate,
                 best.trained.whip);
  }
  return best;
}

}  // namespace

nlohmann::json CalibrationReport::to_json() const {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : r2) {
    layers.push_back({{"layer", layer.layer},
                      {"initial", layer.initial.to_json()},
                      {"trained", layer.trained.to_json()},
                      {"seconds", layer.seconds},
                      {"resumed", layer.resumed}});
  }
  nlohmann::json sweep = nlohmann::json::array();
  for (const auto& [rate, whip] : r1_sweep) {
    sweep.push_back({{"learning_rate", rate}, {"final_whip", whip}});
  }
  return {{"r1",
           {{"initial", r1_initial.to_json()},
            {"trained", r1_trained.to_json()},
            {"epoch_loss", r1_epoch_loss},
            {"learning_rate", r1_learning_rate},
            {"sweep", sweep},
            {"chunks", r1_chunks},
            {"bytes_in_memory", r1_bytes_in_memory},
            {"bytes_on_disk", r1_bytes_on_disk}}},
          {"r2", layers},
          {"collection_seconds", collection_seconds},
          {"optimization_seconds", optimization_seconds},
          {"seconds", seconds},
          {"peak_rss_bytes", peak_rss_bytes}};
}

LearnedRotations calibrate_dartquant(model::CausalLM& model, const at::Tensor& windows,
                                     const CalibrationOptions& options, CalibrationReport* report) {
  DQ_CHECK(windows.defined() && windows.dim() == 2 && windows.size(0) > 0,
           "DartQuant calibration needs windows [nsamples, seqlen]");
  auto total_start = std::chrono::steady_clock::now();
  const auto& config = model.config();
  const auto& settings = options.settings;
  int64_t count = windows.size(0);
  int64_t seqlen = windows.size(1);
  int64_t layers = config.num_hidden_layers;
  int64_t kv_heads = config.num_key_value_heads;
  int64_t head_dim = config.head_dim;

  CalibrationState state(options.state_dir, options.identity, config);
  LearnedRotations rotations;
  rotations.r2 = state.finished_r2();

  auto r1_ids = choose_r1_chunks(count, layers, settings.r1_fraction, options.seed);
  auto spill_dir = options.state_dir.empty() ? std::filesystem::temp_directory_path() : options.state_dir;
  ChunkStore r1_store(seqlen, config.hidden_size, options.max_memory, spill_dir);
  spdlog::info("DartQuant calibration: {} windows × {} tokens, {} layers; R1 keeps {} of {} chunks ({:.0f}%), "
               "up to {:.0f} MiB in memory",
               count, seqlen, layers, r1_ids.size(), count * layers * kSites, 100.0 * settings.r1_fraction,
               static_cast<double>(options.max_memory) / (1 << 20));

  at::NoGradGuard no_grad;
  auto context = model.context();
  at::Tensor hidden;
  {
    std::vector<at::Tensor> embedded;
    for (int64_t start = 0; start < count; start += options.batch_size) {
      embedded.push_back(model.embed(windows.narrow(0, start, std::min(options.batch_size, count - start))));
    }
    hidden = at::cat(embedded, 0);
  }

  double collection_seconds = 0;
  double optimization_seconds = 0;
  ProgressBar progress("calibrate", layers, "layer");
  for (auto& layer : model.layers()) {
    auto collect_start = std::chrono::steady_clock::now();
    int64_t index = layer.index();
    if (model.loads_layers_on_demand()) {
      model.load_layer(index);
    }
    rotation::prepare_for_rotation(layer);
    bool trained_before = index < static_cast<int64_t>(rotations.r2.size());

    // Observers see batches of windows; `batch_start` is the first window's index.
    int64_t batch_start = 0;
    auto keep_r1 = [&](Site site, const at::Tensor& x) {
      auto per_window = x.reshape({-1, seqlen, x.size(-1)});
      for (int64_t i = 0; i < per_window.size(0); ++i) {
        int64_t id = (index * kSites + site) * count + batch_start + i;
        if (r1_ids.count(id) > 0) {
          r1_store.add(per_window[i]);
        }
      }
    };
    at::Tensor o_inputs;
    if (!trained_before) {
      o_inputs = at::empty({count, seqlen, layer.attention.o_proj.in_features()}, at::TensorOptions().dtype(at::kFloat));
      layer.attention.o_proj.set_input_observer([&](const Linear&, const at::Tensor& x) {
        o_inputs.narrow(0, batch_start, x.size(0)).copy_(x.reshape({x.size(0), seqlen, -1}));
      });
    }
    layer.attention.q_proj.set_input_observer([&](const Linear&, const at::Tensor& x) { keep_r1(kAttentionInput, x); });
    mlp_input_linear(layer).set_input_observer([&](const Linear&, const at::Tensor& x) { keep_r1(kMlpInput, x); });

    std::vector<at::Tensor> outputs;
    for (batch_start = 0; batch_start < count; batch_start += options.batch_size) {
      outputs.push_back(layer.forward(hidden.narrow(0, batch_start, std::min(options.batch_size, count - batch_start)),
                                      context));
    }
    hidden = at::cat(outputs, 0);
    outputs.clear();
    DQ_CHECK(at::isfinite(hidden).all().item<bool>(), "layer ", index,
             " produced NaN or Inf activations on the calibration windows; check the checkpoint's weights, or use "
             "--dtype float32 if a lower precision overflowed");
    layer.attention.o_proj.set_input_observer({});
    layer.attention.q_proj.set_input_observer({});
    mlp_input_linear(layer).set_input_observer({});
    collection_seconds += seconds_since(collect_start);

    CalibrationReport::LayerR2 layer_report{index, {}, {}, 0.0, trained_before};
    if (!trained_before) {
      // R2 starts from one random Hadamard per layer, the same for every KV head.
      auto start = rotation::random_hadamard(head_dim, derive_seed(options.seed, kR2StartStream + index), at::kFloat)
                       .unsqueeze(0)
                       .repeat({kv_heads, 1, 1});
      RotationShape shape{kv_heads, config.num_key_value_groups(), head_dim};
      ChunkSource source{count, [&o_inputs](int64_t i) { return o_inputs[i]; }};
      auto result = train_rotation(start, shape, source, settings.r2,
                                   derive_seed(options.seed, kR2TrainStream + index), {},
                                   str("R2 of layer ", index));
      o_inputs = at::Tensor();  // this layer's R2 data is no longer needed
      state.record_r2(index, result.rotation);
      rotations.r2.push_back(result.rotation);
      layer_report.initial = result.initial;
      layer_report.trained = result.trained;
      layer_report.seconds = result.seconds;
      optimization_seconds += result.seconds;
      log_stats(str("[", index + 1, "/", layers, "] layer ", index, " R2"), result.initial, result.trained,
                result.seconds);
    } else {
      spdlog::info("[{}/{}] layer {} R2: taken from the calibration state", index + 1, layers, index);
    }
    report->r2.push_back(layer_report);
    if (model.loads_layers_on_demand()) {
      model.release_layer(index);  // the quantization pass reads it again
    }
    progress.advance(1, 1);
  }
  progress.finish();
  hidden = at::Tensor();

  auto r1_start = std::chrono::steady_clock::now();
  auto r1 = train_r1(r1_store, config, options, report);
  optimization_seconds += seconds_since(r1_start);
  rotations.r1 = r1.rotation[0];
  state.remove();

  report->r1_initial = r1.initial;
  report->r1_trained = r1.trained;
  report->r1_epoch_loss = r1.epoch_loss;
  report->r1_chunks = r1_store.size();
  report->r1_bytes_in_memory = r1_store.bytes_in_memory();
  report->r1_bytes_on_disk = r1_store.bytes_on_disk();
  report->collection_seconds = collection_seconds;
  report->optimization_seconds = optimization_seconds;
  report->seconds = seconds_since(total_start);
  report->peak_rss_bytes = peak_rss_bytes();
  spdlog::info("DartQuant calibration done in {:.1f} s: collection {:.1f} s, optimization {:.1f} s; R1 chunks {:.0f} "
               "MiB in memory, {:.0f} MiB on disk; peak RSS {:.0f} MiB",
               report->seconds, collection_seconds, optimization_seconds,
               static_cast<double>(report->r1_bytes_in_memory) / (1 << 20),
               static_cast<double>(report->r1_bytes_on_disk) / (1 << 20),
               static_cast<double>(report->peak_rss_bytes) / (1 << 20));
  return rotations;
}

}  // namespace dartquant::calibration
