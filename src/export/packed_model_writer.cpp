// write_packed_model and the dartquant block.
#include <set>
#include <vector>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/export/compressed_tensors_config.h"
#include "dartquant/export/packed_model.h"
#include "dartquant/io/atomic_directory.h"
#include "dartquant/io/atomic_file.h"
#include "dartquant/io/safetensors_writer.h"
#include "dartquant/quant/profile.h"

namespace dartquant::exporter {
namespace {

using model::Linear;
using model::LinearRole;
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

/// Files of the source folder that travel with the model.
const std::vector<std::string>& companion_files() {
  static const std::vector<std::string> names{"tokenizer.model",         "tokenizer.json", "tokenizer_config.json",
                                              "special_tokens_map.json", "added_tokens.json", "generation_config.json"};
  return names;
}

bool is_rotated(quant::Method method) { return method == quant::Method::kQuarot || method == quant::Method::kDartquant; }

/// Returns the stored weight of a norm. A folded norm has none, but other
/// tools expect one, so it is stored as ones (exactly the identity).
at::Tensor norm_weight(const at::Tensor& weight, int64_t hidden, at::ScalarType dtype) {
  return weight.defined() ? weight : at::ones({hidden}, at::TensorOptions().dtype(dtype));
}

/// Lists every tensor of the packed model, in model order.
NamedTensors collect_tensors(model::CausalLM& model, const PackedWeights& packed) {
  const int64_t hidden = model.config().hidden_size;
  const auto dtype = model.embed_tokens.scalar_type();
  NamedTensors tensors{{"model.embed_tokens.weight", model.embed_tokens}};

  for (auto& layer : model.layers()) {
    auto prefix = "model.layers." + std::to_string(layer.index()) + ".";
    tensors.emplace_back(prefix + "input_layernorm.weight", norm_weight(layer.input_layernorm, hidden, dtype));
    tensors.emplace_back(prefix + "post_attention_layernorm.weight",
                         norm_weight(layer.post_attention_layernorm, hidden, dtype));
    layer.for_each_linear([&](Linear& linear) {
      const PackedLinear* packed_linear = packed.find(linear.name());
      if (packed_linear != nullptr) {
        auto named = packed_linear->named(module_of(linear.name()));
        tensors.insert(tensors.end(), named.begin(), named.end());
      } else {
        DQ_CHECK(linear.site().role == LinearRole::kRouter, linear.name(),
                 " was not quantized; a packed model needs every decoder Linear except the routers quantized");
        tensors.emplace_back(linear.name(), linear.weight());
      }
      if (linear.bias().defined()) {
        tensors.emplace_back(module_of(linear.name()) + ".bias", linear.bias());
      }
    });
  }
  tensors.emplace_back("model.norm.weight", norm_weight(model.final_norm, hidden, dtype));
  if (!model.lm_head.weight().is_same(model.embed_tokens)) {
    tensors.emplace_back("lm_head.weight", model.lm_head.weight());
  }
  return tensors;
}

/// compressed-tensors (and so vLLM) needs every input width divisible by
/// the group size; a shorter last group is written anyway, for dartquant.
void warn_about_short_groups(model::CausalLM& model, const quant::QuantSpec& spec) {
  if (spec.group_size <= 0) {
    return;
  }
  std::vector<std::string> examples;
  int64_t count = 0;
  for (auto& layer : model.layers()) {
    layer.for_each_linear([&](Linear& linear) {
      if (linear.site().role != LinearRole::kRouter && linear.in_features() % spec.group_size != 0) {
        if (examples.size() < 3) {
          examples.push_back(str(module_of(linear.name()), " (", linear.in_features(), " inputs)"));
        }
        ++count;
      }
    });
  }
  if (count > 0) {
    std::string listed;
    for (const auto& example : examples) {
      listed += (listed.empty() ? "" : ", ") + example;
    }
    spdlog::warn("{} Linear(s) have an input width not divisible by the group size {}, e.g. {}: their last group "
                 "is shorter. dartquant reads them, but compressed-tensors and vLLM cannot; choose a group size that "
                 "divides every width (--set weights.group_size=N) for those tools",
                 count, spec.group_size, listed);
  }
}

/// Describes the online transforms the runtime installs, with their exact layout.
nlohmann::json online_transforms(model::CausalLM& model, const quant::QuantizeOptions& options) {
  nlohmann::json transforms = nlohmann::json::array();
  if (!is_rotated(options.method)) {
    return transforms;
  }
  std::set<int64_t> widths;
  for (auto& layer : model.layers()) {
    layer.for_each_linear([&](Linear& linear) {
      if (linear.site().role == LinearRole::kDown) {
        widths.insert(linear.in_features());
      }
    });
  }
  transforms.push_back({{"name", "r4"},
                        {"location", "input of every down projection"},
                        {"transform", "x <- x * M^T, M the normalized Hadamard of the MLP width"},
                        {"sizes", widths}});
  if (options.method == quant::Method::kQuarot) {
    transforms.push_back({{"name", "r2_online"},
                          {"location", "input of o_proj"},
                          {"transform", "x <- x * (H_heads kron I_head_dim) / sqrt(heads), mixing heads"},
                          {"sizes", {model.config().num_attention_heads}}});
  }
  if (options.profile.key.enabled() || options.profile.value.enabled()) {
    transforms.push_back({{"name", "r3"},
                          {"location", "query and key after RoPE"},
                          {"transform", "x <- x * H_head_dim / sqrt(head_dim), per head"},
                          {"sizes", {model.config().head_dim}}});
  }
  return transforms;
}


}  // namespace

void PackedWeights::add(const model::Linear& linear, const quant::QuantizedWeight& weight) {
  linears_[linear.name()] = pack_linear(weight, spec_, linear.name());
}

const PackedLinear* PackedWeights::find(const std::string& name) const {
  auto found = linears_.find(name);
  return found == linears_.end() ? nullptr : &found->second;
}

void copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const auto& name : companion_files()) {
    auto source = from / name;
    if (std::filesystem::is_regular_file(source)) {
      // The source may be read-only (a shared or downloaded model); the copy belongs to the user.
      std::filesystem::copy_file(source, to / name);
      std::filesystem::permissions(to / name, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
    }
  }
}

nlohmann::json dartquant_block(model::CausalLM& model, const quant::QuantizeOptions& options,
                               const ExportOptions& export_options) {
  return {{"format_version", kPackedFormatVersion},
          {"tool_version", DARTQUANT_VERSION},
          {"method", quant::method_name(options.method)},
          {"bits", quant::bits_label(options.profile)},
          {"weight_quantizer", options.weight_algorithm == quant::WeightAlgorithm::kGptq ? "gptq" : "rtn"},
          {"profile", quant::profile_to_json(options.profile)},
          {"seed", options.seed},
          {"center_embeddings", options.center_embeddings},
          {"norms_folded", is_rotated(options.method)},
          {"scale_dtype", dtype_name(options.scale_dtype)},
          {"calibration", export_options.calibration},
          {"hadamard", export_options.hadamard_plans},
          {"online_transforms", online_transforms(model, options)}};
}

int64_t write_packed_model(model::CausalLM& model, const PackedWeights& packed, const quant::QuantizeOptions& options,
                           const ExportOptions& export_options) {
  DQ_CHECK(export_options.max_shard_bytes > 0, "the shard size must be positive, got ", export_options.max_shard_bytes);
  auto config = read_json_file(export_options.source_dir / "config.json");
  io::AtomicDirectory folder(export_options.out_dir, export_options.overwrite);

  warn_about_short_groups(model, packed.spec());
  auto tensors = collect_tensors(model, packed);
  int64_t bytes = io::write_sharded_safetensors(folder.staging(), tensors, export_options.max_shard_bytes);

  config["tie_word_embeddings"] = model.lm_head.weight().is_same(model.embed_tokens);
  config["quantization_config"] = quantization_config(model, options);
  config["dartquant"] = dartquant_block(model, options, export_options);
  io::write_file_atomically(folder.staging() / "config.json", config.dump(2) + "\n");

  copy_tokenizer_files(export_options.source_dir, folder.staging());
  folder.commit();
  spdlog::info("wrote the packed model to {} ({} tensors, {:.2f} MiB)", folder.target().string(), tensors.size(),
               static_cast<double>(bytes) / (1 << 20));
  return bytes;
}

}  // namespace dartquant::exporter
