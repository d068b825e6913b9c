// Quantization profiles: every quantizer knob of a run, loaded from a JSON file
// under configs/profiles/ and adjusted from the command line.
//
// Shipped profiles: `paper` (the released DartQuant scripts) and `quarot-paper`
// (QuaRot's published settings). A profile file is one JSON object with the
// fields of QuantProfile. Every field except "description" is required, and
// unknown fields are rejected. Example: configs/profiles/paper.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dartquant/quant/gptq.h"
#include "dartquant/quant/quantizer.h"
#include "dartquant/quant/weight_quantizer.h"

namespace dartquant::quant {

/// Group size that stands for "one group per attention head": written
/// "head_dim" in profile files and allowed only for the key and value
/// quantizers. resolve_head_groups() replaces it with the model's head_dim.
constexpr int64_t kHeadDimGroup = -1;

/// Components that keep full precision, named in "keep_full_precision".
inline const std::vector<std::string>& full_precision_components() {
  static const std::vector<std::string> names{"embeddings", "lm_head", "routers"};
  return names;
}

/// Every quantizer setting of a run.
struct QuantProfile {
  std::string name;
  std::string description;        ///< free text, optional in the file
  WeightQuantOptions weights;     ///< group_size counts input columns; 0 is per output channel
  GptqOptions gptq;
  QuantSpec activations;          ///< inputs of every decoder Linear, per token (group_size 0)
  /// Quantize the o_proj input per head (groups of head_dim) when DartQuant's
  /// offline R2 is used. Otherwise it is quantized per token over all of d.
  bool o_proj_per_head_under_offline_r2 = true;
  QuantSpec key;                  ///< K after RoPE (and R3); group_size may be kHeadDimGroup
  QuantSpec value;                ///< V at the v_proj output; group_size may be kHeadDimGroup
  std::vector<std::string> keep_full_precision;  ///< subset of full_precision_components()

  /// True when `component` (one of full_precision_components()) stays in full precision.
  bool keeps_full_precision(const std::string& component) const;
};

/// Returns `spec` with kHeadDimGroup replaced by `head_dim`.
QuantSpec resolve_head_groups(const QuantSpec& spec, int64_t head_dim);

/// Parses and validates a profile object. `source` (a file path or a
/// description such as "--set weights.bits=3") names it in errors.
QuantProfile profile_from_json(const nlohmann::json& document, const std::string& source);

/// The profile as a JSON object in the file format (loadable by
/// profile_from_json), for the config block of the results.
nlohmann::json profile_to_json(const QuantProfile& profile);

/// Loads a profile by name ("paper" reads `configs_dir`/profiles/paper.json) or
/// by path (any value that ends in ".json" or contains a '/'). Throws
/// dartquant::UsageError for an unknown name and dartquant::Error, naming the
/// file and the field, for an invalid file.
QuantProfile load_profile(const std::string& name_or_path, const std::filesystem::path& configs_dir);

/// Parses "W-A-KV" (e.g. "4-4-16"). Each value is 2..8, or 16 and above for
/// no quantization. Throws dartquant::UsageError naming the value.
std::tuple<int, int, int> parse_bits(const std::string& text);

/// "W-A-KV" of a profile, e.g. "4-4-16"; a disabled quantizer counts as 16
/// and KV is the key's bits.
std::string bits_label(const QuantProfile& profile);

/// Sets the bits of the weights, the activations, and both K and V. Throws
/// dartquant::UsageError for a value parse_bits would reject.
void apply_bits(QuantProfile& profile, int weight_bits, int activation_bits, int kv_bits);

/// Applies one "--set" assignment "field=value" to any leaf field of the
/// profile file format, e.g. "weights.group_size=64", "gptq.damp_fraction=0.01",
/// "key.group_size=head_dim", "keep_full_precision=embeddings,lm_head"
/// (a comma-separated list or a JSON array; an empty value is an empty list).
/// The value is read as JSON when it parses as JSON, else as a string. The
/// whole profile is validated again. Throws dartquant::UsageError naming the
/// assignment for an unknown field or an invalid value.
void apply_override(QuantProfile& profile, const std::string& assignment);

/// Dotted names of every field apply_override accepts, for help text.
std::vector<std::string> override_fields();

}  // namespace dartquant::quant
