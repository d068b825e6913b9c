// A Linear layer that records its role in the model, so later stages (rotation,
// quantization, calibration) can select layers without matching name strings.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <ATen/core/Tensor.h>

namespace dartquant::model {

/// Role of a Linear inside a decoder layer (or the model head).
enum class LinearRole { kQuery, kKey, kValue, kOutput, kGate, kUp, kDown, kRouter, kLmHead };

/// Kind of MLP that a gate/up/down projection belongs to.
enum class MlpKind { kNone, kDense, kExpert, kSharedExpert };

std::string role_name(LinearRole role);

/// Position of a Linear in the model.
struct LinearSite {
  LinearRole role = LinearRole::kQuery;
  MlpKind mlp = MlpKind::kNone;
  int64_t layer = -1;   ///< decoder layer, -1 for the head
  int64_t expert = -1;  ///< routed expert id, -1 otherwise
};

/// A function on activations [..., features] that keeps the shape.
using TensorFunction = std::function<at::Tensor(const at::Tensor&)>;

/// Called with a Linear and the input it is about to multiply (after the
/// online rotation, before activation quantization), e.g. to build a GPTQ Hessian.
using LinearInputObserver = std::function<void(const class Linear&, const at::Tensor&)>;

/// `y = x·Wᵀ + b` with `W` stored as [out, in] in its checkpoint dtype on the
/// compute device. The input's dtype is the compute dtype; the weight is
/// converted to it for each product.
///
/// Online processing of the input, in this order: `input_rotation` (an online
/// Hadamard), the observer, then `input_quantizer` (dynamic activation
/// quantization). Each step is skipped when unset.
class Linear {
 public:
  Linear() = default;
  Linear(std::string name, LinearSite site, at::Tensor weight, at::Tensor bias = {});

  /// x: [..., in] in the compute dtype; returns [..., out] in the same dtype.
  at::Tensor forward(const at::Tensor& x) const;

  const std::string& name() const { return name_; }  ///< checkpoint name of the weight, e.g. model.layers.0.self_attn.q_proj.weight
  const LinearSite& site() const { return site_; }
  const at::Tensor& weight() const { return weight_; }
  const at::Tensor& bias() const { return bias_; }
  int64_t in_features() const { return weight_.size(1); }
  int64_t out_features() const { return weight_.size(0); }

  /// Replaces the weight (same shape), e.g. with a rotated or quantized one.
  void set_weight(at::Tensor weight);

  void set_input_rotation(TensorFunction rotation) { input_rotation_ = std::move(rotation); }
  void set_input_quantizer(TensorFunction quantizer) { input_quantizer_ = std::move(quantizer); }
  void set_input_observer(LinearInputObserver observer) { input_observer_ = std::move(observer); }
  const TensorFunction& input_rotation() const { return input_rotation_; }
  const TensorFunction& input_quantizer() const { return input_quantizer_; }

 private:
  std::string name_;
  LinearSite site_;
  at::Tensor weight_;
  at::Tensor bias_;
  TensorFunction input_rotation_;
  TensorFunction input_quantizer_;
  LinearInputObserver input_observer_;
};

}  // namespace dartquant::model
