// Reads named weights from a checkpoint with shape and value checks, and keeps
// track of which tensors the model consumed.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/core/compute.h"
#include "dartquant/io/checkpoint.h"

namespace dartquant::model {

/// A weight rebuilt from tensors stored under other names, e.g. a quantized
/// Linear stored as packed codes and scales.
struct DecodedWeight {
  at::Tensor weight;                  ///< dense weight; undefined when the decoder does not apply
  std::vector<std::string> consumed;  ///< checkpoint tensors it was built from
};

/// Rebuilds weight `name` of the expected `shape` from `checkpoint`, or
/// returns an undefined weight when `name` is not stored in the decoder's format.
using WeightDecoder = std::function<DecodedWeight(const io::Checkpoint& checkpoint, const std::string& name,
                                                  const std::vector<int64_t>& shape)>;

/// The result of WeightLoader::load: values, or shapes only.
enum class WeightReading {
  kValues,      ///< the stored values, checked to be finite
  kShapesOnly,  ///< a meta tensor of the stored shape and dtype, without reading the values
};

class WeightLoader {
 public:
  /// `decoder` is asked for every weight the checkpoint does not hold under
  /// its own name.
  WeightLoader(const io::Checkpoint& checkpoint, ComputeOptions options, WeightDecoder decoder = {});

  /// kShapesOnly builds the layer shells of a model loaded layer by layer:
  /// names, shapes and dtypes are checked as for kValues.
  void set_reading(WeightReading reading) { reading_ = reading; }

  /// Loads `name`, checks that its shape is `shape` and that every value is
  /// finite, and moves it to the compute device in its storage dtype (decoded
  /// weights: the dtype the decoder returns).
  at::Tensor load(const std::string& name, const std::vector<int64_t>& shape);

  bool contains(const std::string& name) const { return checkpoint_.contains(name); }

  /// Marks a tensor as accounted for without loading it (a tied lm_head copy).
  void skip(const std::string& name) { consumed_.insert(name); }

  /// Throws when the checkpoint contains tensors that no module loaded, which
  /// means config.json does not match the weights.
  void check_all_consumed() const;

 private:
  /// The safetensors file that stores `name`, else the checkpoint path, for error messages.
  std::string location(const std::string& name) const;

  const io::Checkpoint& checkpoint_;
  ComputeOptions options_;
  WeightDecoder decoder_;
  WeightReading reading_ = WeightReading::kValues;
  std::set<std::string> consumed_;
};

}  // namespace dartquant::model
