// Reads named weights from a checkpoint with shape and value checks, and keeps
// track of which tensors the model consumed.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dartquant/core/compute.h"
#include "dartquant/io/checkpoint.h"

namespace dartquant::model {

class WeightLoader {
 public:
  WeightLoader(const io::Checkpoint& checkpoint, ComputeOptions options);

  /// Loads `name`, checks that its shape is `shape` and that every value is
  /// finite, and moves it to the compute device in its storage dtype.
  at::Tensor load(const std::string& name, const std::vector<int64_t>& shape);

  bool contains(const std::string& name) const { return checkpoint_.contains(name); }

  /// Marks a tensor as accounted for without loading it (a tied lm_head copy).
  void skip(const std::string& name) { consumed_.insert(name); }

  /// Throws when the checkpoint contains tensors that no module loaded, which
  /// means config.json does not match the weights.
  void check_all_consumed() const;

 private:
  const io::Checkpoint& checkpoint_;
  ComputeOptions options_;
  std::set<std::string> consumed_;
};

}  // namespace dartquant::model
