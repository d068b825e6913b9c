// write_packed_model and the dartquant block.
#include <cstdio>
#include <optional>
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
#include "dartquant/io/dtype.h"
#include "dartquant/io/safetensors_writer.h"
#include "dartquant/quant/profile.h"

namespace dartquant::exporter {
namespace {

using model::Linear;
using model::LinearRole;

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
std::vector<io::DeferredTensor> collect_tensors(model::CausalLM& model, const PackedWeights& packed) {
  const int64_t hidden = model.config().hidden_size;
  const auto dtype = model.embed_tokens.scalar_type();
  std::vector<io::DeferredTensor> tensors{io::hold("model.embed_tokens.weight", model.embed_tokens)};
  for (auto& layer : model.layers()) {
    auto named = packed.layer_tensors(layer, dtype);
    tensors.insert(tensors.end(), named.begin(), named.end());
  }
  tensors.push_back(io::hold("model.norm.weight", norm_weight(model.final_norm, hidden, dtype)));
  if (!model.lm_head.weight().is_same(model.embed_tokens)) {
    tensors.push_back(io::hold("lm_head.weight", model.lm_head.weight()));
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

std::vector<io::DeferredTensor> PackedWeights::layer_tensors(model::DecoderLayer& layer,
                                                             at::ScalarType norm_dtype) const {
  std::vector<io::DeferredTensor> tensors;
  auto spilled = spilled_.find(layer.index());
  if (spilled != spilled_.end()) {
    auto file = spilled->second.file;
    for (const auto& name : spilled->second.names) {
      const auto& info = file->info(name);
      auto like = at::empty(info.shape, at::TensorOptions().dtype(io::to_scalar_type(info.dtype)).device(at::kMeta));
      tensors.push_back({name, like, [file, name] { return file->load(name); }});
    }
    return tensors;
  }

  const int64_t hidden = layer.attention.q_proj.in_features();
  auto prefix = "model.layers." + std::to_string(layer.index()) + ".";
  tensors.push_back(
      io::hold(prefix + "input_layernorm.weight", norm_weight(layer.input_layernorm, hidden, norm_dtype)));
  tensors.push_back(io::hold(prefix + "post_attention_layernorm.weight",
                             norm_weight(layer.post_attention_layernorm, hidden, norm_dtype)));
  layer.for_each_linear([&](Linear& linear) {
    const PackedLinear* packed_linear = find(linear.name());
    if (packed_linear != nullptr) {
      for (auto& [name, tensor] : packed_linear->named(module_of(linear.name()))) {
        tensors.push_back(io::hold(name, tensor));
      }
    } else {
      DQ_CHECK(linear.site().role == LinearRole::kRouter, linear.name(),
               " was not quantized; a packed model needs every decoder Linear except the routers quantized");
      tensors.push_back(io::hold(linear.name(), linear.weight()));
    }
    if (linear.bias().defined()) {
      tensors.push_back(io::hold(module_of(linear.name()) + ".bias", linear.bias()));
    }
  });
  return tensors;
}

void PackedWeights::spill_layer(model::DecoderLayer& layer, at::ScalarType norm_dtype,
                                const std::filesystem::path& folder) {
  auto tensors = layer_tensors(layer, norm_dtype);
  char file_name[64];
  std::snprintf(file_name, sizeof(file_name), "layer-%05lld.safetensors", static_cast<long long>(layer.index()));
  std::filesystem::create_directories(folder);
  io::write_deferred_safetensors(folder / file_name, tensors);

  Spilled spilled{std::make_shared<const io::Checkpoint>(io::Checkpoint::open(folder / file_name)), {}};
  for (const auto& tensor : tensors) {
    spilled.names.push_back(tensor.name);
  }
  layer.for_each_linear([&](Linear& linear) { linears_.erase(linear.name()); });
  spilled_[layer.index()] = std::move(spilled);
}

int64_t estimate_packed_bytes(model::CausalLM& model, const quant::QuantSpec& spec, at::ScalarType scale_dtype) {
  auto stored = [](const at::Tensor& tensor) { return tensor.numel() * static_cast<int64_t>(tensor.element_size()); };
  int64_t bytes = stored(model.embed_tokens);
  if (!model.lm_head.weight().is_same(model.embed_tokens)) {
    bytes += stored(model.lm_head.weight());
  }
  int64_t parameter_bytes = static_cast<int64_t>(c10::elementSize(scale_dtype)) + 4;  // a scale and a zero point
  for (auto& layer : model.layers()) {
    bytes += 2 * model.config().hidden_size * static_cast<int64_t>(model.embed_tokens.element_size());  // norms
    layer.for_each_linear([&](Linear& linear) {
      if (linear.site().role == LinearRole::kRouter) {
        bytes += stored(linear.weight());
        return;
      }
      bytes += (linear.weight().numel() * spec.bits + 7) / 8;
      bytes += linear.out_features() * quant::group_count(linear.in_features(), spec.group_size) * parameter_bytes;
    });
  }
  return bytes;
}

std::filesystem::path spill_folder(const io::AtomicDirectory& folder) { return folder.staging() / ".layers"; }

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
                           const ExportOptions& export_options, io::AtomicDirectory* given_folder) {
  DQ_CHECK(export_options.max_shard_bytes > 0, "the shard size must be positive, got ", export_options.max_shard_bytes);
  auto config = read_json_file(export_options.source_dir / "config.json");
  std::optional<io::AtomicDirectory> own_folder;
  if (given_folder == nullptr) {
    own_folder.emplace(export_options.out_dir, export_options.overwrite);
  }
  io::AtomicDirectory& folder = given_folder != nullptr ? *given_folder : *own_folder;

  warn_about_short_groups(model, packed.spec());
  int64_t bytes = 0;
  size_t tensor_count = 0;
  {
    auto tensors = collect_tensors(model, packed);
    tensor_count = tensors.size();
    bytes = io::write_sharded_safetensors(folder.staging(), tensors, export_options.max_shard_bytes);
  }
  // The spill files stay mapped while `packed` lives; removing their names is safe.
  std::filesystem::remove_all(spill_folder(folder));

  config["tie_word_embeddings"] = model.lm_head.weight().is_same(model.embed_tokens);
  config["quantization_config"] = quantization_config(model, options);
  config["dartquant"] = dartquant_block(model, options, export_options);
  io::write_file_atomically(folder.staging() / "config.json", config.dump(2) + "\n");

  copy_tokenizer_files(export_options.source_dir, folder.staging());
  folder.commit();
  spdlog::info("wrote the packed model to {} ({} tensors, {:.2f} MiB)", folder.target().string(), tensor_count,
               static_cast<double>(bytes) / (1 << 20));
  return bytes;
}

}  // namespace dartquant::exporter
