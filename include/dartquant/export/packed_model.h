// Writing a quantized model as a packed Hugging Face folder, and loading any
// model folder (FP or packed) back for evaluation.
//
// The folder has config.json with `quantization_config` (compressed-tensors,
// pack-quantized) and a `dartquant` block that restores the online transforms
// and quantizers. The tensors are in model.safetensors, or in shards with
// model.safetensors.index.json, next to the source's tokenizer files. See
// docs/format.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dartquant/core/compute.h"
#include "dartquant/export/packed_linear.h"
#include "dartquant/io/atomic_directory.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/io/safetensors_writer.h"
#include "dartquant/model/causal_lm.h"
#include "dartquant/quant/model_quantizer.h"

namespace dartquant::exporter {

/// Version of the `dartquant` block in config.json.
inline constexpr int kPackedFormatVersion = 1;

/// Packed Linears collected while a model is quantized (the
/// QuantizeOptions::on_weight_quantized hook), keyed by weight name.
class PackedWeights {
 public:
  explicit PackedWeights(quant::QuantSpec spec) : spec_(spec) {}

  void add(const model::Linear& linear, const quant::QuantizedWeight& weight);

  /// The packed Linear of weight `name`, or nullptr.
  const PackedLinear* find(const std::string& name) const;

  const quant::QuantSpec& spec() const { return spec_; }

  /// Moves the stored tensors of a finished `layer` (see layer_tensors) to a
  /// safetensors file in `folder`, so that memory does not grow with depth.
  /// The writer reads them back one at a time. `norm_dtype`: the dtype of a
  /// folded norm's stored ones.
  void spill_layer(model::DecoderLayer& layer, at::ScalarType norm_dtype, const std::filesystem::path& folder);

  /// The tensors the packed folder stores for `layer`, in model order:
  /// norms, packed Linears, routers and biases, from memory or from the
  /// layer's spill file.
  std::vector<io::DeferredTensor> layer_tensors(model::DecoderLayer& layer, at::ScalarType norm_dtype) const;

 private:
  struct Spilled {
    std::shared_ptr<const io::Checkpoint> file;
    std::vector<std::string> names;  ///< in model order
  };

  quant::QuantSpec spec_;
  std::map<std::string, PackedLinear> linears_;
  std::map<int64_t, Spilled> spilled_;  ///< by layer index
};

struct ExportOptions {
  std::filesystem::path source_dir;  ///< the FP model folder: config.json and tokenizer files
  std::filesystem::path out_dir;
  bool overwrite = false;            ///< replace an existing out_dir
  int64_t max_shard_bytes = int64_t{5} << 30;
  nlohmann::json calibration;        ///< calibration file, SHA-256, windows (null without calibration)
  std::vector<std::string> hadamard_plans;  ///< constructions used, from the QuantizeReport
};

/// The `dartquant` block: method, bits, profile, seed, calibration, tool
/// version, Hadamard constructions and the online transforms.
nlohmann::json dartquant_block(model::CausalLM& model, const quant::QuantizeOptions& options,
                               const ExportOptions& export_options);

/// Writes the quantized `model` with its `packed` Linears to
/// export_options.out_dir, atomically (see io::AtomicDirectory), or into
/// `folder` when given (created early, e.g. to hold spill files, which are
/// removed). Every decoder Linear except the routers must be packed. Returns
/// the bytes of the tensor files.
int64_t write_packed_model(model::CausalLM& model, const PackedWeights& packed, const quant::QuantizeOptions& options,
                           const ExportOptions& export_options, io::AtomicDirectory* folder = nullptr);

/// Bytes of the packed folder's tensor files for `model` (layers may be
/// shape-only shells) quantized with `spec` and `scale_dtype` scales: packed
/// codes, one scale and zero point per group, and the tensors kept as stored.
int64_t estimate_packed_bytes(model::CausalLM& model, const quant::QuantSpec& spec, at::ScalarType scale_dtype);

/// Returns the folder inside a packed model's staging folder that contains
/// the layers spilled while quantizing.
std::filesystem::path spill_folder(const io::AtomicDirectory& folder);

/// Copies the tokenizer and generation files of a model folder (those that
/// exist) from `from` to `to`, writable by the user.
void copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to);

/// Quantization settings of a packed folder's `dartquant` block, for
/// restoring the online transforms and quantizers.
struct RuntimeSettings {
  quant::QuantizeOptions options;
  bool norms_folded = false;  ///< norm weights are stored as ones and applied as weight-free norms
};

/// Parses the `dartquant` block of `source` (a config.json path, for errors).
RuntimeSettings read_dartquant_block(const nlohmann::json& block, const std::string& source);

/// Loads a model folder for evaluation. An FP folder loads as it is. A
/// pack-quantized one is unpacked on load into the same dense weights the
/// quantizing process used. With a `dartquant` block, the online Hadamards and
/// the activation and KV quantizers are installed again, so the logits equal
/// the in-process quantized model's bit for bit (same device and dtype). Other
/// compressed-tensors checkpoints get their weights only, with a warning when
/// they also declare activation or KV quantization. With
/// LayerLoading::kOnDemand each layer is unpacked and restored when it is
/// read (CausalLM::load_layer).
model::CausalLM load_model(const std::filesystem::path& dir, const ComputeOptions& compute,
                           model::LayerLoading loading = model::LayerLoading::kAll);

/// Writes the dense float32 weight of every packed Linear of `dir`, exactly
/// as load_model rebuilds it, to the safetensors file `out` as
/// "<module>.weight", for comparison with other tools. Returns the count.
int64_t write_dequantized_weights(const std::filesystem::path& dir, const std::filesystem::path& out);

}  // namespace dartquant::exporter
