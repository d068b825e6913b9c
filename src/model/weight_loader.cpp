#include "dartquant/model/weight_loader.h"

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/io/dtype.h"

namespace dartquant::model {
namespace {

std::string shape_string(at::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}

/// Buffers that some exporters store but the forward pass recomputes.
bool is_ignorable(const std::string& name) {
  return name.size() >= 20 && name.compare(name.size() - 20, 20, "rotary_emb.inv_freq") == 0;
}

/// Throws naming `file` and `name` when `tensor` contains NaN or Inf.
void check_finite(const at::Tensor& tensor, const std::string& file, const std::string& name) {
  DQ_CHECK(at::isfinite(tensor).all().item<bool>(), file, ": tensor ", name, " contains NaN or Inf values (",
           at::isnan(tensor).sum().item<int64_t>(), " NaN, ", at::isinf(tensor).sum().item<int64_t>(),
           " Inf); the checkpoint is corrupt, so download or export it again");
}

}  // namespace

std::string WeightLoader::location(const std::string& name) const {
  return checkpoint_.contains(name) ? checkpoint_.file_of(name).path().string() : checkpoint_.path().string();
}

WeightLoader::WeightLoader(const io::Checkpoint& checkpoint, ComputeOptions options, WeightDecoder decoder)
    : checkpoint_(checkpoint), options_(options), decoder_(std::move(decoder)) {}

at::Tensor WeightLoader::load(const std::string& name, const std::vector<int64_t>& shape) {
  if (!checkpoint_.contains(name) && decoder_) {
    auto decoded = decoder_(checkpoint_, name, shape);
    if (decoded.weight.defined()) {
      DQ_CHECK(decoded.weight.sizes().vec() == shape, checkpoint_.path().string(), ": quantized weight ", name, " has shape ",
               shape_string(decoded.weight.sizes()), " but config.json implies ", shape_string(shape),
               "; config.json does not match the weights");
      check_finite(decoded.weight, checkpoint_.path().string(), name);
      consumed_.insert(decoded.consumed.begin(), decoded.consumed.end());
      if (reading_ == WeightReading::kShapesOnly) {
        // Decoded once for the checks above; the values are read again by load_layer.
        return at::empty(shape, at::TensorOptions().dtype(decoded.weight.scalar_type()).device(at::kMeta));
      }
      return decoded.weight.to(options_.device);
    }
  }
  DQ_CHECK(checkpoint_.contains(name), checkpoint_.path().string(), ": tensor ", name,
           " is missing from the checkpoint; config.json does not match the weights (wrong folder or an "
           "incomplete download?)");
  const auto& info = checkpoint_.info(name);
  DQ_CHECK(info.shape == shape, location(name), ": tensor ", name, " has shape ", shape_string(info.shape), " but config.json implies ",
           shape_string(shape), "; config.json does not match the weights, so use the config.json of this checkpoint");

  if (reading_ == WeightReading::kShapesOnly) {
    auto dtype = io::to_scalar_type(info.dtype);
    DQ_CHECK(at::isFloatingType(dtype), location(name), ": tensor ", name, " has integer dtype ", dtype,
             "; an unquantized checkpoint needs F32, F16 or BF16 weights");
    consumed_.insert(name);
    return at::empty(shape, at::TensorOptions().dtype(dtype).device(at::kMeta));
  }

  at::Tensor tensor = checkpoint_.load(name);
  DQ_CHECK(tensor.is_floating_point(), location(name), ": tensor ", name, " has integer dtype ", tensor.scalar_type(),
           "; an unquantized checkpoint needs F32, F16 or BF16 weights");
  check_finite(tensor, location(name), name);
  consumed_.insert(name);
  return tensor.to(options_.device);
}

void WeightLoader::check_all_consumed() const {
  std::vector<std::string> extra;
  for (const auto& name : checkpoint_.names()) {
    if (consumed_.count(name) == 0 && !is_ignorable(name)) {
      extra.push_back(name);
    }
  }
  if (extra.empty()) {
    return;
  }
  std::string listed;
  for (size_t i = 0; i < extra.size() && i < 5; ++i) {
    listed += (i == 0 ? "" : ", ") + extra[i];
  }
  throw Error(str(checkpoint_.path().string(), ": the checkpoint has ", extra.size(), " tensor(s) that config.json does not account for (", listed,
                  extra.size() > 5 ? ", ..." : "",
                  "); config.json does not match the weights, so remove them or use the config.json of this "
                  "checkpoint"));
}

}  // namespace dartquant::model
