#include "dartquant/model/mlp.h"

#include <ATen/ATen.h>

namespace dartquant::model {
namespace {

Linear load_linear(WeightLoader& loader, const std::string& prefix, const std::string& name, LinearSite site,
                   int64_t out, int64_t in, bool bias) {
  std::string weight_name = prefix + name + ".weight";
  at::Tensor weight = loader.load(weight_name, {out, in});
  at::Tensor bias_tensor = bias ? loader.load(prefix + name + ".bias", {out}) : at::Tensor();
  return Linear(weight_name, site, weight, bias_tensor);
}

LinearSite with_role(LinearSite site, LinearRole role) {
  site.role = role;
  return site;
}

}  // namespace

Mlp::Mlp(WeightLoader& loader, const std::string& prefix, const MlpNames& names, LinearSite site, int64_t hidden,
         int64_t intermediate, bool bias)
    : gate_proj(load_linear(loader, prefix, names.gate, with_role(site, LinearRole::kGate), intermediate, hidden, bias)),
      up_proj(load_linear(loader, prefix, names.up, with_role(site, LinearRole::kUp), intermediate, hidden, bias)),
      down_proj(load_linear(loader, prefix, names.down, with_role(site, LinearRole::kDown), hidden, intermediate, bias)) {}

at::Tensor Mlp::forward(const at::Tensor& x) const {
  auto activated = at::silu(gate_proj.forward(x)) * up_proj.forward(x);
  return down_proj.forward(activated);
}

}  // namespace dartquant::model
