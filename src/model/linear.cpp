#include "dartquant/model/linear.h"

#include <ATen/ATen.h>

#include "dartquant/core/error.h"

namespace dartquant::model {

std::string role_name(LinearRole role) {
  switch (role) {
    case LinearRole::kQuery:
      return "q";
    case LinearRole::kKey:
      return "k";
    case LinearRole::kValue:
      return "v";
    case LinearRole::kOutput:
      return "o";
    case LinearRole::kGate:
      return "gate";
    case LinearRole::kUp:
      return "up";
    case LinearRole::kDown:
      return "down";
    case LinearRole::kRouter:
      return "router";
    case LinearRole::kLmHead:
      return "lm_head";
  }
  return "unknown";
}

Linear::Linear(std::string name, LinearSite site, at::Tensor weight, at::Tensor bias)
    : name_(std::move(name)), site_(site), weight_(std::move(weight)), bias_(std::move(bias)) {
  DQ_CHECK(weight_.dim() == 2, name_, ": a Linear weight must be 2-D [out, in], got ", weight_.sizes());
}

at::Tensor Linear::forward(const at::Tensor& input) const {
  at::Tensor x = input_rotation_ ? input_rotation_(input) : input;
  if (input_observer_) {
    input_observer_(*this, x);
  }
  if (input_quantizer_) {
    x = input_quantizer_(x);
  }

  auto dtype = x.scalar_type();
  const at::Tensor& weight = weight_.scalar_type() == dtype ? weight_ : weight_.to(dtype);
  return at::linear(x, weight, bias_.defined() ? bias_.to(dtype) : at::Tensor());
}

void Linear::set_weight(at::Tensor weight) {
  DQ_CHECK(weight.sizes() == weight_.sizes(), name_, ": replacement weight has shape ", weight.sizes(),
           ", expected ", weight_.sizes());
  weight_ = std::move(weight);
}

}  // namespace dartquant::model
