// quantize_weights: RTN on every Linear, or GPTQ layer by layer on the
// calibration activations.
#include <chrono>
#include <map>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/progress.h"
#include "dartquant/quant/gptq.h"
#include "dartquant/quant/hessian.h"
#include "dartquant/quant/model_quantizer.h"
#include "dartquant/quant/weight_quantizer.h"

namespace dartquant::quant {
namespace {

using model::Linear;
using model::LinearRole;

bool is_quantized(const Linear& linear) { return linear.site().role != LinearRole::kRouter; }

/// GPTQ order within a layer: [q, k, v] → [o] → [gate, up] → [down]. Each
/// group's Hessians are collected with the earlier groups already quantized.
std::vector<std::vector<Linear*>> gptq_groups(model::DecoderLayer& layer) {
  std::vector<std::vector<Linear*>> groups(4);
  layer.for_each_linear([&](Linear& linear) {
    switch (linear.site().role) {
      case LinearRole::kQuery:
      case LinearRole::kKey:
      case LinearRole::kValue:
        groups[0].push_back(&linear);
        break;
      case LinearRole::kOutput:
        groups[1].push_back(&linear);
        break;
      case LinearRole::kGate:
      case LinearRole::kUp:
        groups[2].push_back(&linear);
        break;
      case LinearRole::kDown:
        groups[3].push_back(&linear);
        break;
      default:
        break;
    }
  });
  return groups;
}

/// Runs `layer` over all calibration hidden states [n, seq, hidden] in
/// batches; returns the outputs when `keep_outputs`.
at::Tensor run_layer(const model::DecoderLayer& layer, const at::Tensor& hidden, const model::ForwardContext& context,
                     int64_t batch_size, bool keep_outputs) {
  std::vector<at::Tensor> outputs;
  for (int64_t start = 0; start < hidden.size(0); start += batch_size) {
    int64_t count = std::min(batch_size, hidden.size(0) - start);
    auto output = layer.forward(hidden.narrow(0, start, count), context);
    if (keep_outputs) {
      outputs.push_back(output);
    }
  }
  return keep_outputs ? at::cat(outputs, 0) : at::Tensor();
}

/// Converts the parameters to options.scale_dtype and, when that changes
/// them, recomputes the dequantized weight from the codes in that dtype (as
/// compressed-tensors and vLLM do), reports the result to
/// options.on_weight_quantized and installs the dequantized weight.
void set_quantized(Linear& linear, QuantizedWeight quantized, const QuantizeOptions& options,
                   at::ScalarType compute_dtype) {
  if (options.scale_dtype != quantized.params.scale.scalar_type()) {
    quantized.params.scale = quantized.params.scale.to(options.scale_dtype);
    quantized.params.zero = quantized.params.zero.to(options.scale_dtype);
    quantized.dequantized = dequantize_codes(quantized.codes, quantized.params, options.profile.weights.spec)
                                .to(quantized.dequantized.scalar_type());
  }
  if (options.on_weight_quantized) {
    options.on_weight_quantized(linear, quantized);
  }
  linear.set_weight(quantized.dequantized.to(compute_dtype));
}

void run_step(const std::function<void(model::DecoderLayer&)>& step, model::DecoderLayer& layer) {
  if (step) {
    step(layer);
  }
}

/// Layers without weight quantization (16-bit weights) still take their steps.
void skip_weights(model::CausalLM& model, const LayerSteps& steps) {
  for (auto& layer : model.layers()) {
    run_step(steps.before, layer);
    run_step(steps.after, layer);
  }
}

void quantize_rtn(model::CausalLM& model, const QuantizeOptions& options, QuantizeReport* report,
                  const LayerSteps& steps) {
  auto compute_dtype = model.options().dtype;
  for (auto& layer : model.layers()) {
    run_step(steps.before, layer);
    auto start = std::chrono::steady_clock::now();
    LayerReport layer_report{layer.index(), 0, {}};
    layer.for_each_linear([&](Linear& linear) {
      if (!is_quantized(linear)) {
        return;
      }
      auto quantized = quantize_weight_rtn(linear.weight().to(at::kFloat), options.profile.weights);
      set_quantized(linear, std::move(quantized), options, compute_dtype);
      layer_report.linears.push_back({linear.name(), "rtn", 0, 0.0, 0.0});
    });
    layer_report.seconds = seconds_since(start);
    spdlog::info("[{}/{}] layer {} rtn: {} linears in {:.2f} s", layer.index() + 1, model.layers().size(),
                 layer.index(), layer_report.linears.size(), layer_report.seconds);
    report->layers.push_back(std::move(layer_report));
    run_step(steps.after, layer);
  }
}

void quantize_gptq(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options,
                   QuantizeReport* report, const LayerSteps& steps) {
  DQ_CHECK(calibration.defined() && calibration.dim() == 2 && calibration.size(0) > 0,
           "GPTQ needs calibration windows [nsamples, seqlen]");
  auto compute_dtype = model.options().dtype;
  auto context = model.context();
  int64_t layers = static_cast<int64_t>(model.layers().size());

  at::NoGradGuard no_grad;
  at::Tensor hidden;
  {
    std::vector<at::Tensor> embedded;
    for (int64_t start = 0; start < calibration.size(0); start += options.batch_size) {
      embedded.push_back(model.embed(calibration.narrow(0, start, std::min(options.batch_size, calibration.size(0) - start))));
    }
    hidden = at::cat(embedded, 0);
  }
  spdlog::info("GPTQ on {} calibration windows of {} tokens ({:.0f} MiB of activations per layer)",
               calibration.size(0), calibration.size(1),
               static_cast<double>(hidden.numel() * hidden.element_size()) / (1 << 20));

  ProgressBar progress("gptq", layers, "layer");
  for (auto& layer : model.layers()) {
    run_step(steps.before, layer);
    auto start = std::chrono::steady_clock::now();
    LayerReport layer_report{layer.index(), 0, {}};

    for (auto& group : gptq_groups(layer)) {
      // Each Linear's Hessian comes from its actual inputs, so an expert's
      // Hessian covers only the tokens routed to it.
      std::map<const Linear*, HessianAccumulator> hessians;
      for (Linear* linear : group) {
        hessians.emplace(linear, HessianAccumulator(linear->in_features(), at::kFloat, linear->weight().device()));
        linear->set_input_observer(
            [&hessians](const Linear& seen, const at::Tensor& x) { hessians.at(&seen).add(x); });
      }
      run_layer(layer, hidden, context, options.batch_size, /*keep_outputs=*/false);

      for (Linear* linear : group) {
        linear->set_input_observer({});
        const auto& accumulator = hessians.at(linear);
        // Non-finite inputs appear here first: every earlier input of this
        // layer fed a Hessian that passed this check, and the layer's input did too.
        DQ_CHECK(at::isfinite(accumulator.hessian()).all().item<bool>(), linear->name(),
                 ": the GPTQ Hessian contains NaN or Inf because the calibration activations entering this Linear "
                 "(layer ", layer.index(), ") are not finite; check the weights before it, or use --dtype float32 if "
                 "a lower precision overflowed");
        auto weight = linear->weight().to(at::kFloat);
        if (accumulator.samples() < linear->in_features()) {
          // Too few routed tokens for a meaningful Hessian (fewer than its rank).
          spdlog::warn("{}: only {} calibration tokens for {} input features; falling back to RTN (use more "
                       "--nsamples to give every expert enough tokens)",
                       linear->name(), accumulator.samples(), linear->in_features());
          set_quantized(*linear, quantize_weight_rtn(weight, options.profile.weights), options, compute_dtype);
          layer_report.linears.push_back({linear->name(), "rtn-fallback", accumulator.samples(), 0.0, 0.0});
          ++report->rtn_fallbacks;
          continue;
        }
        auto result = gptq_quantize(weight, accumulator.hessian(), options.profile.weights, options.profile.gptq,
                                    linear->name());
        set_quantized(*linear, std::move(result.weight), options, compute_dtype);
        spdlog::debug("{}: GPTQ loss {:.4g} on {} tokens", linear->name(), result.loss, accumulator.samples());
        layer_report.linears.push_back(
            {linear->name(), "gptq", accumulator.samples(), result.loss, result.damping_used});
      }
    }

    // The quantized layer's outputs feed the next layer.
    hidden = run_layer(layer, hidden, context, options.batch_size, /*keep_outputs=*/true);
    DQ_CHECK(at::isfinite(hidden).all().item<bool>(), "layer ", layer.index(),
             " produced NaN or Inf activations from finite inputs after its weights were quantized; check the "
             "layer's weights, or use --dtype float32 if a lower precision overflowed");
    layer_report.seconds = seconds_since(start);

    double loss = 0;
    for (const auto& linear : layer_report.linears) {
      loss += linear.loss;
    }
    spdlog::info("[{}/{}] layer {} gptq: {} linears, total loss {:.4g}, {:.2f} s", layer.index() + 1, layers,
                 layer.index(), layer_report.linears.size(), loss, layer_report.seconds);
    report->layers.push_back(std::move(layer_report));
    run_step(steps.after, layer);
    progress.advance(1, 1);
  }
  progress.finish();
}

}  // namespace

void quantize_weights(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options,
                      QuantizeReport* report) {
  auto start = std::chrono::steady_clock::now();
  quantize_weights(model, calibration, options, report, LayerSteps{});
  report->weight_seconds = seconds_since(start);
}

void quantize_weights(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options,
                      QuantizeReport* report, const LayerSteps& steps) {
  if (!options.profile.weights.spec.enabled()) {
    skip_weights(model, steps);
  } else if (options.weight_algorithm == WeightAlgorithm::kRtn) {
    quantize_rtn(model, options, report, steps);
  } else {
    quantize_gptq(model, calibration, options, report, steps);
  }
}

}  // namespace dartquant::quant
