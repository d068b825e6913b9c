// Command-line adjustments of a loaded profile: --bits and --set.
#include <algorithm>
#include <cctype>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"
#include "dartquant/quant/profile.h"

namespace dartquant::quant {
namespace {

using nlohmann::json;

bool valid_bits(int64_t bits) {
  return (bits >= 2 && bits <= 8) || bits >= 16;
}

/// Dotted paths of the leaves of `node` under `prefix`, in document order.
void collect_leaves(const json& node, const std::string& prefix, std::vector<std::string>& leaves) {
  if (!node.is_object()) {
    leaves.push_back(prefix);
    return;
  }
  for (const auto& item : node.items()) {
    collect_leaves(item.value(), prefix.empty() ? item.key() : prefix + "." + item.key(), leaves);
  }
}

std::string join_fields() {
  std::string joined;
  for (const auto& field : override_fields()) {
    joined += (joined.empty() ? "" : ", ") + field;
  }
  return joined;
}

/// Parses the value of "--set field=value": JSON when it parses as JSON, else
/// the raw text. For a list field, a value that is not a JSON array is split at commas.
json parse_override_value(const std::string& text, bool list) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!list) {
    return parsed.is_discarded() ? json(text) : parsed;
  }
  if (!parsed.is_discarded() && parsed.is_array()) {
    return parsed;
  }

  json items = json::array();
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    items.push_back(item);
  }
  return items;
}

}  // namespace

std::tuple<int, int, int> parse_bits(const std::string& text) {
  const std::string usage = str("invalid --bits value \"", text,
                                "\": expected W-A-KV such as 4-4-16, each 2..8 or 16 (16 and above means no "
                                "quantization)");
  std::vector<int64_t> values;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, '-')) {
    const bool digits = !part.empty() && part.size() <= 3 &&
                        std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits) {
      throw UsageError(usage);
    }
    values.push_back(std::stoll(part));
  }
  if (values.size() != 3 || text.back() == '-' ||
      !std::all_of(values.begin(), values.end(), [](int64_t bits) { return valid_bits(bits); })) {
    throw UsageError(usage);
  }
  return {static_cast<int>(values[0]), static_cast<int>(values[1]), static_cast<int>(values[2])};
}

void apply_bits(QuantProfile& profile, int weight_bits, int activation_bits, int kv_bits) {
  const struct {
    const char* name;
    int bits;
  } settings[] = {{"weight", weight_bits}, {"activation", activation_bits}, {"KV cache", kv_bits}};
  for (const auto& setting : settings) {
    if (!valid_bits(setting.bits)) {
      throw UsageError(str("invalid ", setting.name, " bits ", setting.bits,
                           ": expected 2..8, or 16 and above for no quantization"));
    }
  }

  profile.weights.spec.bits = weight_bits;
  profile.activations.bits = activation_bits;
  profile.key.bits = kv_bits;
  profile.value.bits = kv_bits;
}

std::vector<std::string> override_fields() {
  std::vector<std::string> fields;
  collect_leaves(profile_to_json(QuantProfile{}), "", fields);
  return fields;
}

void apply_override(QuantProfile& profile, const std::string& assignment) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw UsageError(str("invalid --set value \"", assignment,
                         "\": expected field=value, e.g. weights.group_size=64"));
  }
  const std::string field = assignment.substr(0, equals);
  const std::string value = assignment.substr(equals + 1);

  // Walk the dotted path through the profile's JSON form.
  json document = profile_to_json(profile);
  json* node = &document;
  std::stringstream path(field);
  std::string key;
  while (std::getline(path, key, '.')) {
    if (!node->is_object() || !node->contains(key)) {
      throw UsageError(str("unknown profile field \"", field, "\" in --set ", assignment, "; valid fields: ",
                           join_fields()));
    }
    node = &(*node)[key];
  }
  if (node->is_object() || field.back() == '.') {
    throw UsageError(str("--set ", assignment, ": \"", field, "\" is not a single field; valid fields: ",
                         join_fields()));
  }
  *node = parse_override_value(value, node->is_array());

  // Validate the whole profile again, reporting problems as usage errors.
  try {
    profile = profile_from_json(document, "--set " + assignment);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& error) {
    throw UsageError(error.what());
  }
}

}  // namespace dartquant::quant
