#include "dartquant/eval/router_stats.h"

#include <algorithm>
#include <cstdio>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

namespace dartquant::eval {
namespace {

std::vector<double> fractions_of(const std::vector<int64_t>& counts) {
  int64_t total = 0;
  for (int64_t count : counts) {
    total += count;
  }
  std::vector<double> fractions;
  for (int64_t count : counts) {
    fractions.push_back(total > 0 ? static_cast<double>(count) / static_cast<double>(total) : 0.0);
  }
  return fractions;
}

}  // namespace

model::RouterObserver RouterStatistics::observer() {
  return [this](const model::RouterDecision& decision) { add(decision); };
}

void RouterStatistics::add(const model::RouterDecision& decision) {
  int64_t experts = decision.probabilities.size(-1);
  auto counts = at::bincount(decision.expert_indices.reshape(-1).cpu(), {}, experts);
  auto& total = counts_[decision.layer];
  total.resize(static_cast<size_t>(experts), 0);
  auto values = counts.accessor<int64_t, 1>();
  for (int64_t e = 0; e < experts; ++e) {
    total[static_cast<size_t>(e)] += values[e];
  }
}

nlohmann::json RouterStatistics::to_json() const {
  nlohmann::json layers = nlohmann::json::object();
  for (const auto& [layer, counts] : counts_) {
    auto fractions = fractions_of(counts);
    int64_t assignments = 0;
    for (int64_t count : counts) {
      assignments += count;
    }
    layers[std::to_string(layer)] = {
        {"fractions", fractions},
        {"min", *std::min_element(fractions.begin(), fractions.end())},
        {"max", *std::max_element(fractions.begin(), fractions.end())},
        {"assignments", assignments},
    };
  }
  return {{"layers", layers}};
}

std::string RouterStatistics::table() const {
  if (counts_.empty()) {
    return "";
  }
  size_t experts = counts_.begin()->second.size();
  std::string header = "| layer |";
  std::string rule = "|---|";
  for (size_t e = 0; e < experts; ++e) {
    header += " e" + std::to_string(e) + " |";
    rule += "---|";
  }
  std::string text = header + " min | max |\n" + rule + "---|---|\n";

  char cell[32];
  for (const auto& [layer, counts] : counts_) {
    auto fractions = fractions_of(counts);
    text += "| " + std::to_string(layer) + " |";
    for (double fraction : fractions) {
      std::snprintf(cell, sizeof(cell), " %.3f |", fraction);
      text += cell;
    }
    std::snprintf(cell, sizeof(cell), " %.3f |", *std::min_element(fractions.begin(), fractions.end()));
    text += cell;
    std::snprintf(cell, sizeof(cell), " %.3f |\n", *std::max_element(fractions.begin(), fractions.end()));
    text += cell;
  }
  return text;
}

}  // namespace dartquant::eval
