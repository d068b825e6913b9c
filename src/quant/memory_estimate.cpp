#include "dartquant/quant/memory_estimate.h"

#include <algorithm>
#include <array>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/core/memory.h"

namespace dartquant::quant {
namespace {

using model::Linear;
using model::LinearRole;

/// GPTQ's four groups per layer (weight_pass.cpp): q/k/v, o, gate/up, down.
size_t gptq_group(LinearRole role) {
  switch (role) {
    case LinearRole::kQuery:
    case LinearRole::kKey:
    case LinearRole::kValue:
      return 0;
    case LinearRole::kOutput:
      return 1;
    case LinearRole::kGate:
    case LinearRole::kUp:
      return 2;
    default:
      return 3;
  }
}

/// Sizes of one layer, read from its weights (possibly shape-only).
struct LayerSizes {
  int64_t stored = 0;          ///< bytes of the weights in their checkpoint dtype
  int64_t parameters = 0;
  int64_t largest_linear = 0;  ///< parameters
  int64_t largest_output = 0;  ///< output features of the widest Linear
  int64_t largest_input = 0;   ///< input features of the widest Linear
  int64_t hessians = 0;        ///< bytes of the float32 Hessians of the largest GPTQ group
};

LayerSizes measure_layer(model::DecoderLayer& layer) {
  LayerSizes sizes;
  std::array<int64_t, 4> group_hessians{};
  layer.for_each_linear([&](Linear& linear) {
    int64_t count = linear.weight().numel();
    sizes.stored += count * static_cast<int64_t>(linear.weight().element_size());
    sizes.parameters += count;
    sizes.largest_linear = std::max(sizes.largest_linear, count);
    sizes.largest_output = std::max(sizes.largest_output, linear.out_features());
    sizes.largest_input = std::max(sizes.largest_input, linear.in_features());
    if (linear.site().role != LinearRole::kRouter) {
      group_hessians[gptq_group(linear.site().role)] += linear.in_features() * linear.in_features() * 4;
    }
  });
  sizes.hessians = *std::max_element(group_hessians.begin(), group_hessians.end());
  return sizes;
}

/// Runs one float32 and one float64 product, so that the BLAS library has
/// allocated and touched its working buffers before the baseline is read.
void warm_up_blas() {
  for (auto dtype : {at::kFloat, at::kDouble}) {
    auto matrix = at::ones({512, 512}, at::TensorOptions().dtype(dtype));
    at::matmul(matrix, matrix);
  }
}

}  // namespace

std::string MemoryEstimate::describe() const {
  return str("baseline ", format_mib(baseline), " + head ", format_mib(head), " + layers ", format_mib(layers),
             " + activations ", format_mib(activations), " + GPTQ ", format_mib(gptq), " + margin ",
             format_mib(margin));
}


MemoryEstimate estimate_quantize_memory(model::CausalLM& model, const RunShape& run) {
  const auto& config = model.config();
  MemoryEstimate estimate;
  warm_up_blas();
  estimate.baseline = current_rss_bytes();

  if (run.rotated) {
    // Embeddings and an untied lm_head in float64, plus one product's output.
    estimate.head = 3 * config.vocab_size * config.hidden_size * 8;
  }

  int64_t all_layers = 0;
  int64_t widest_layer = 0;
  int64_t largest_linear = 0;
  int64_t largest_output = 0;
  int64_t largest_input = 0;
  int64_t hessians = 0;
  int64_t largest_parameters = 0;
  for (auto& layer : model.layers()) {
    auto sizes = measure_layer(layer);
    all_layers += sizes.stored;
    widest_layer = std::max(widest_layer, sizes.stored);
    largest_parameters = std::max(largest_parameters, sizes.parameters);
    largest_linear = std::max(largest_linear, sizes.largest_linear);
    largest_output = std::max(largest_output, sizes.largest_output);
    largest_input = std::max(largest_input, sizes.largest_input);
    hessians = std::max(hessians, sizes.hessians);
  }
  estimate.layers = run.release_layers ? widest_layer : all_layers;
  if (run.rotated) {
    // The layer being rotated is float64, and the fast Hadamard transforms
    // and products briefly need about a second copy (measured on synthetic
    // Llama layers).
    estimate.layers += 2 * largest_parameters * 8;
  }
  // A weight converted to float32 for RTN's clip search or one product, with
  // the search's temporaries.
  estimate.layers += 4 * largest_linear * 4;

  if (run.gptq || run.learns_rotations) {
    int64_t element = static_cast<int64_t>(c10::elementSize(run.compute_dtype));
    int64_t hidden_states = run.windows * run.seqlen * config.hidden_size * element;
    // Inputs, the outputs being gathered and their concatenation. Then one
    // batch's widest intermediate (gate/up outputs), a few times over.
    estimate.activations = 3 * hidden_states + 4 * run.batch_size * run.seqlen * largest_output * element;
    if (run.learns_rotations) {
      // One layer's o_proj inputs for R2, float32.
      estimate.activations += run.windows * run.seqlen * config.num_attention_heads * config.head_dim * 4;
    }
  }
  if (run.gptq) {
    // The group's Hessians, plus GPTQ's own working copies of one Hessian and one weight.
    estimate.gptq = hessians + 3 * largest_input * largest_input * 4 + 3 * largest_linear * 4;
  }
  int64_t parts = estimate.head + estimate.layers + estimate.activations + estimate.gptq;
  estimate.margin = (int64_t{32} << 20) + parts / 10;
  return estimate;
}

void check_memory_budget(const MemoryEstimate& estimate, int64_t budget) {
  if (estimate.total() <= budget) {
    return;
  }
  throw Error(str("quantize needs about ", format_mib(estimate.total()), " of memory (", estimate.describe(),
                  ") but --max-memory is ", format_mib(budget), "; raise --max-memory, or lower --nsamples or "
                  "--seqlen to shrink the activations"));
}

}  // namespace dartquant::quant
