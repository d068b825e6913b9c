// Quantizes a whole model: preprocessing and rotations per method, weight
// quantization (RTN or GPTQ, layer by layer on calibration activations), and
// the online activation and KV-cache quantizers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "dartquant/model/causal_lm.h"
#include "dartquant/quant/profile.h"
#include "dartquant/quant/weight_quantizer.h"

namespace dartquant::quant {

/// Quantization methods: the rows of the DartQuant paper's results table.
enum class Method { kRtn, kGptq, kQuarot, kDartquant };

/// Parses rtn, gptq, quarot or dartquant; throws UsageError otherwise.
Method parse_method(const std::string& text);
std::string method_name(Method method);

/// Weight rounding algorithm: round-to-nearest or GPTQ.
enum class WeightAlgorithm { kRtn, kGptq };

struct QuantizeOptions {
  Method method = Method::kQuarot;
  WeightAlgorithm weight_algorithm = WeightAlgorithm::kGptq;
  QuantProfile profile;                 ///< bits already applied (apply_bits)
  bool center_embeddings = true;        ///< rotation methods only
  uint64_t seed = 0;                    ///< random-Hadamard signs
  bool cast_to_storage_dtype = true;    ///< false keeps the rotated weights in float64 (exactness tests)
  int64_t batch_size = 8;               ///< calibration sequences per forward pass
  at::Tensor r1;                        ///< DartQuant: learned R1 [hidden, hidden]
  std::vector<at::Tensor> r2;           ///< DartQuant: learned R2 per layer [kv_heads, head_dim, head_dim]
  /// Dtype the weight scales are kept in (float32, float16 or bfloat16). A
  /// narrower one rounds GPTQ's float32 scales, and the in-process weights are
  /// recomputed from the codes and the rounded scales, so that a packed copy
  /// of the model contains exactly the same weights.
  at::ScalarType scale_dtype = at::kFloat;
  /// Called with every quantized Linear and its codes (after scale rounding),
  /// e.g. to pack them for export.
  std::function<void(const model::Linear&, const QuantizedWeight&)> on_weight_quantized;
  /// Called with each decoder layer once it is final (rotated, quantized,
  /// activation quantizers installed), e.g. to write it out.
  std::function<void(model::DecoderLayer&)> on_layer_done;
  /// For a model that loads its layers on demand: release each layer after
  /// on_layer_done, so that memory holds one layer at a time. The model can
  /// then no longer run; load the written copy to evaluate it.
  bool release_layers = false;
};

/// Outcome of quantizing one Linear.
struct LinearReport {
  std::string name;
  std::string algorithm;    ///< "gptq", "rtn" or "rtn-fallback"
  int64_t tokens = 0;       ///< calibration tokens it saw (GPTQ)
  double loss = 0;          ///< GPTQ's accumulated error
  double damping = 0;
};

struct LayerReport {
  int64_t layer = 0;
  double seconds = 0;
  std::vector<LinearReport> linears;
};

struct QuantizeReport {
  std::vector<LayerReport> layers;
  double rotation_seconds = 0;
  double weight_seconds = 0;
  int64_t rtn_fallbacks = 0;
  std::vector<std::string> hadamard_plans;  ///< constructions used, "<size>: <plan>"

  nlohmann::json to_json() const;
};

/// Preprocessing of the rotation methods (METHOD.md section 2): weights to
/// float64, embedding mean-centering (when enabled), RMSNorm folding.
void preprocess_model(model::CausalLM& model, const QuantizeOptions& options);

/// preprocess_model outside the decoder layers (embeddings, final norm,
/// lm_head); the layers follow one at a time (rotation::prepare_for_rotation).
void preprocess_head(model::CausalLM& model, const QuantizeOptions& options);

/// Applies the method's rotations to a preprocessed model (quarot: random
/// Hadamard R1 and online R2; dartquant: options.r1/r2), R4, and R3 when the
/// KV cache is quantized. Then casts the weights to `storage_dtype` unless
/// options.cast_to_storage_dtype is false.
void apply_rotations(model::CausalLM& model, const QuantizeOptions& options, at::ScalarType storage_dtype,
                     QuantizeReport* report = nullptr);

/// preprocess_model and apply_rotations: applies the method's preprocessing and rotations (none for rtn and gptq)
/// and installs the online transforms (R3 only when the KV cache is
/// quantized). Weights stay unquantized.
void rotate_model(model::CausalLM& model, const QuantizeOptions& options, QuantizeReport* report = nullptr);

/// Quantizes every decoder-layer Linear except the routers, in place; GPTQ
/// needs `calibration` [n, seqlen] int64 ids. Weights hold the dequantized
/// values in the compute dtype afterwards.
void quantize_weights(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options,
                      QuantizeReport* report);

/// Installs the dynamic activation quantizers (input of every decoder-layer
/// Linear except routers) and the K/V quantizers, per the profile's bits.
void enable_activation_quantization(model::CausalLM& model, const QuantizeOptions& options);

/// For a model whose rotated, quantized weights were saved and loaded again:
/// installs the method's online transforms (R4, QuaRot's online R2, R3 when
/// the KV cache is quantized) and then enable_activation_quantization.
void restore_online_quantization(model::CausalLM& model, const QuantizeOptions& options);
void restore_online_quantization(model::DecoderLayer& layer, const model::ModelConfig& config,
                                 const QuantizeOptions& options);

/// Installs enable_activation_quantization's quantizers in one layer.
void enable_activation_quantization(model::DecoderLayer& layer, const model::ModelConfig& config,
                                    const QuantizeOptions& options);

/// Work done on each layer around its weight quantization.
struct LayerSteps {
  std::function<void(model::DecoderLayer&)> before;  ///< e.g. load and rotate it
  std::function<void(model::DecoderLayer&)> after;   ///< after the next layer's inputs are computed
};

/// quantize_weights with `steps` run on each layer in turn.
void quantize_weights(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options,
                      QuantizeReport* report, const LayerSteps& steps);

/// For a model whose head is preprocessed (preprocess_head): rotates the
/// head, then takes one layer at a time through loading (models that load
/// layers on demand), preprocessing and rotations (rotation methods), weight
/// quantization, activation quantizers, options.on_layer_done and, with
/// options.release_layers, release. The result equals rotate_model,
/// quantize_weights and enable_activation_quantization on a resident model.
/// Rotated weights go back to `storage_dtype`, the checkpoint's dtype.
void quantize_layers(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options,
                     at::ScalarType storage_dtype, QuantizeReport* report);

/// preprocess_head (rotation methods) and quantize_layers.
QuantizeReport quantize_model(model::CausalLM& model, const at::Tensor& calibration, const QuantizeOptions& options);

}  // namespace dartquant::quant
