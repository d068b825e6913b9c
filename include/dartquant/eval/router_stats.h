// Per-layer expert load: the fraction of routed (token, slot) assignments that
// each expert receives, accumulated over a whole evaluation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dartquant/model/forward_context.h"

namespace dartquant::eval {

class RouterStatistics {
 public:
  /// An observer to pass to the forward pass; it adds each decision's counts.
  model::RouterObserver observer();

  void add(const model::RouterDecision& decision);

  bool empty() const { return counts_.empty(); }

  /// {"layers": {"<layer>": {"fractions": [...], "min": x, "max": y, "assignments": n}}}
  nlohmann::json to_json() const;

  /// A Markdown table: layer, one column per expert, min, max.
  std::string table() const;

 private:
  std::map<int64_t, std::vector<int64_t>> counts_;  // layer -> assignments per expert
};

}  // namespace dartquant::eval
