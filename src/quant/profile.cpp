#include "dartquant/quant/profile.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"

namespace dartquant::quant {
namespace {

using nlohmann::json;
using dartquant::FieldReader;

const std::vector<std::string> kSpecFields{"bits", "symmetric", "group_size", "clip_ratio"};
const std::vector<std::string> kWeightFields{"bits",     "symmetric",  "group_size", "clip_ratio",
                                             "mse_clip", "mse_norm",   "shrink_min", "shrink_step"};
const std::vector<std::string> kGptqFields{"damp_fraction", "block_size", "max_damping_retries"};
const std::vector<std::string> kProfileFields{"name",  "description", "weights", "gptq",
                                              "activations", "o_proj_per_head_under_offline_r2",
                                              "key",   "value",       "keep_full_precision"};

/// Reads the four QuantSpec fields. "head_dim" is accepted as the group size
/// only when `allow_head_dim` is set.
QuantSpec read_spec(const FieldReader& reader, bool allow_head_dim) {
  QuantSpec spec;
  spec.bits = static_cast<int>(reader.integer("bits"));
  spec.symmetric = reader.boolean("symmetric");
  spec.clip_ratio = reader.number("clip_ratio");

  const json& group = reader.require("group_size");
  if (allow_head_dim && group.is_string()) {
    DQ_CHECK(group.get<std::string>() == "head_dim", reader.source(), ": field \"", reader.path("group_size"),
             "\" must be an integer or \"head_dim\", got ", group.dump());
    spec.group_size = kHeadDimGroup;
  } else {
    DQ_CHECK(group.is_number_integer(), reader.source(), ": field \"", reader.path("group_size"),
             "\" must be an integer", allow_head_dim ? " or \"head_dim\"" : "", ", got ", group.dump());
    spec.group_size = group.get<int64_t>();
  }

  // The range checks treat the per-head marker as a valid group size.
  validate(resolve_head_groups(spec, 1), reader.where());
  return spec;
}

WeightQuantOptions read_weights(const FieldReader& reader) {
  WeightQuantOptions options;
  options.spec = read_spec(reader, /*allow_head_dim=*/false);
  options.mse_clip = reader.boolean("mse_clip");
  options.mse_norm = reader.number("mse_norm");
  options.shrink_min = reader.number("shrink_min");
  options.shrink_step = reader.number("shrink_step");
  validate(options, reader.where());
  return options;
}

GptqOptions read_gptq(const FieldReader& reader) {
  GptqOptions options;
  options.damp_fraction = reader.number("damp_fraction");
  options.block_size = reader.integer("block_size");
  const int64_t retries = reader.integer("max_damping_retries");
  DQ_CHECK(retries >= 0 && retries <= 20, reader.source(), ": field \"", reader.path("max_damping_retries"),
           "\" must be 0..20, got ", retries);
  options.max_damping_retries = static_cast<int>(retries);
  validate(options, reader.where());
  return options;
}

std::vector<std::string> read_components(const FieldReader& reader) {
  const json& list = reader.require("keep_full_precision");
  const std::string field = reader.path("keep_full_precision");
  DQ_CHECK(list.is_array(), reader.source(), ": field \"", field, "\" must be an array of strings, got ",
           list.dump());

  const auto& known = full_precision_components();
  std::vector<std::string> components;
  for (const json& item : list) {
    DQ_CHECK(item.is_string(), reader.source(), ": field \"", field, "\" must contain strings, got ", item.dump());
    const auto name = item.get<std::string>();
    DQ_CHECK(std::find(known.begin(), known.end(), name) != known.end(), reader.source(), ": field \"", field,
             "\" contains unknown component \"", name, "\"; valid: ", FieldReader::join(known));
    DQ_CHECK(std::find(components.begin(), components.end(), name) == components.end(), reader.source(),
             ": field \"", field, "\" lists \"", name, "\" twice");
    components.push_back(name);
  }
  return components;
}

json spec_to_json(const QuantSpec& spec) {
  json group = spec.group_size == kHeadDimGroup ? json("head_dim") : json(spec.group_size);
  return {{"bits", spec.bits}, {"symmetric", spec.symmetric}, {"group_size", group}, {"clip_ratio", spec.clip_ratio}};
}

}  // namespace

bool QuantProfile::keeps_full_precision(const std::string& component) const {
  return std::find(keep_full_precision.begin(), keep_full_precision.end(), component) != keep_full_precision.end();
}

QuantSpec resolve_head_groups(const QuantSpec& spec, int64_t head_dim) {
  QuantSpec resolved = spec;
  if (resolved.group_size == kHeadDimGroup) {
    resolved.group_size = head_dim;
  }
  return resolved;
}

QuantProfile profile_from_json(const json& document, const std::string& source) {
  FieldReader reader(document, source, "", kProfileFields);

  QuantProfile profile;
  profile.name = reader.string("name");
  DQ_CHECK(!profile.name.empty(), source, ": field \"name\" must not be empty");
  profile.description = reader.has("description") ? reader.string("description") : "";
  profile.weights = read_weights(reader.object("weights", kWeightFields));
  profile.gptq = read_gptq(reader.object("gptq", kGptqFields));
  profile.activations = read_spec(reader.object("activations", kSpecFields), /*allow_head_dim=*/false);
  profile.o_proj_per_head_under_offline_r2 = reader.boolean("o_proj_per_head_under_offline_r2");
  profile.key = read_spec(reader.object("key", kSpecFields), /*allow_head_dim=*/true);
  profile.value = read_spec(reader.object("value", kSpecFields), /*allow_head_dim=*/true);
  profile.keep_full_precision = read_components(reader);
  return profile;
}

json profile_to_json(const QuantProfile& profile) {
  json weights = spec_to_json(profile.weights.spec);
  weights["mse_clip"] = profile.weights.mse_clip;
  weights["mse_norm"] = profile.weights.mse_norm;
  weights["shrink_min"] = profile.weights.shrink_min;
  weights["shrink_step"] = profile.weights.shrink_step;

  json gptq = {{"damp_fraction", profile.gptq.damp_fraction},
               {"block_size", profile.gptq.block_size},
               {"max_damping_retries", profile.gptq.max_damping_retries}};

  return {{"name", profile.name},
          {"description", profile.description},
          {"weights", weights},
          {"gptq", gptq},
          {"activations", spec_to_json(profile.activations)},
          {"o_proj_per_head_under_offline_r2", profile.o_proj_per_head_under_offline_r2},
          {"key", spec_to_json(profile.key)},
          {"value", spec_to_json(profile.value)},
          {"keep_full_precision", profile.keep_full_precision}};
}

QuantProfile load_profile(const std::string& name_or_path, const std::filesystem::path& configs_dir) {
  namespace fs = std::filesystem;
  DQ_CHECK(!name_or_path.empty(), "profile name is empty; use a name such as \"paper\" or a path to a .json file");
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".json");
  const fs::path profiles_dir = configs_dir / "profiles";
  const fs::path path = is_path ? fs::path(name_or_path) : profiles_dir / (name_or_path + ".json");

  if (!fs::is_regular_file(path)) {
    if (is_path) {
      throw Error(str("profile file ", path.string(), " not found; check the path or use a profile name such as \"paper\""));
    }
    std::vector<std::string> available;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(profiles_dir, error)) {
      if (entry.path().extension() == ".json") {
        available.push_back(entry.path().stem().string());
      }
    }
    std::sort(available.begin(), available.end());
    throw UsageError(str("unknown profile \"", name_or_path, "\": no file ", path.string(), "; available: ",
                         available.empty() ? "none" : FieldReader::join(available),
                         ", or pass a path to a .json profile"));
  }

  json parsed = read_json_file(path);
  return profile_from_json(parsed, path.string());
}

std::string bits_label(const QuantProfile& profile) {
  auto bits = [](const QuantSpec& spec) { return std::to_string(spec.enabled() ? spec.bits : 16); };
  return bits(profile.weights.spec) + "-" + bits(profile.activations) + "-" + bits(profile.key);
}

}  // namespace dartquant::quant
