#include "dartquant/calibration/rotations_file.h"

#include <utility>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"
#include "dartquant/io/safetensors_file.h"
#include "dartquant/io/safetensors_writer.h"

namespace dartquant::calibration {
namespace {

constexpr const char* kFormat = "dartquant-rotations";
constexpr const char* kVersion = "1";
constexpr double kOrthogonalityTolerance = 1e-4;

std::string r2_name(int64_t layer) { return "r2.layers." + std::to_string(layer); }

std::map<std::string, std::string> shape_metadata(const model::ModelConfig& config) {
  return {{"format", kFormat},
          {"version", kVersion},
          {"model_type", config.model_type},
          {"hidden_size", std::to_string(config.hidden_size)},
          {"num_hidden_layers", std::to_string(config.num_hidden_layers)},
          {"num_key_value_heads", std::to_string(config.num_key_value_heads)},
          {"head_dim", std::to_string(config.head_dim)}};
}

at::Tensor load_checked(const io::SafetensorsFile& file, const std::string& name, std::vector<int64_t> shape) {
  auto tensor = file.load(name).to(at::kFloat);
  DQ_CHECK(tensor.sizes().vec() == shape, file.path().string(), ": tensor ", name, " has shape ", tensor.sizes(),
           " but this model needs ", at::IntArrayRef(shape), "; the rotations were learned for another model");
  DQ_CHECK(at::isfinite(tensor).all().item<bool>(), file.path().string(), ": tensor ", name,
           " has NaN or infinite values; recalibrate without --rotations");
  double error = orthogonality_error(tensor);
  DQ_CHECK(error <= kOrthogonalityTolerance, file.path().string(), ": tensor ", name,
           " is not orthogonal (max |RᵀR − I| = ", error, " > ", kOrthogonalityTolerance,
           "); the file is damaged or not a rotations file");
  return tensor;
}

}  // namespace

double orthogonality_error(const at::Tensor& rotation) {
  auto r = rotation.to(at::kDouble);
  auto gram = at::matmul(r.transpose(-2, -1), r);
  auto identity = at::eye(r.size(-1), r.options());
  return (gram - identity).abs().max().item<double>();
}

void save_rotations(const std::filesystem::path& path, const LearnedRotations& rotations,
                    const model::ModelConfig& config, const std::map<std::string, std::string>& settings) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  if (rotations.r1.defined()) {
    tensors.emplace_back("r1", rotations.r1.to(at::kFloat));
  }
  for (size_t layer = 0; layer < rotations.r2.size(); ++layer) {
    tensors.emplace_back(r2_name(static_cast<int64_t>(layer)), rotations.r2[layer].to(at::kFloat));
  }
  io::WriteOptions options;
  options.metadata = settings;
  for (auto& [key, value] : shape_metadata(config)) {
    options.metadata[key] = value;
  }
  io::write_safetensors(path, tensors, options);
}

std::map<std::string, std::string> rotations_metadata(const std::filesystem::path& path) {
  return io::SafetensorsFile::open(path)->metadata();
}

LearnedRotations load_rotations(const std::filesystem::path& path, const model::ModelConfig& config, bool partial) {
  DQ_CHECK(std::filesystem::is_regular_file(path), path.string(), ": rotations file not found (--rotations)");
  auto file = io::SafetensorsFile::open(path);
  const auto& metadata = file->metadata();
  auto format = metadata.find("format");
  DQ_CHECK(format != metadata.end() && format->second == kFormat, path.string(),
           ": not a dartquant rotations file (metadata \"format\" is not \"", kFormat,
           "\"); write one with quantize --method dartquant --save-rotations");
  auto version = metadata.find("version");
  DQ_CHECK(version != metadata.end() && version->second == kVersion, path.string(), ": rotations file version ",
           version == metadata.end() ? "(none)" : version->second, " is not supported (expected ", kVersion, ")");

  LearnedRotations rotations;
  int64_t hidden = config.hidden_size;
  if (file->find("r1") != nullptr) {
    rotations.r1 = load_checked(*file, "r1", {hidden, hidden});
  } else {
    DQ_CHECK(partial, path.string(), ": tensor r1 is missing");
  }
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    if (file->find(r2_name(layer)) == nullptr) {
      DQ_CHECK(partial, path.string(), ": tensor ", r2_name(layer), " is missing; the model has ",
               config.num_hidden_layers, " layers");
      break;
    }
    rotations.r2.push_back(
        load_checked(*file, r2_name(layer), {config.num_key_value_heads, config.head_dim, config.head_dim}));
  }
  DQ_CHECK(file->find(r2_name(config.num_hidden_layers)) == nullptr, path.string(), ": has rotations for more than ",
           config.num_hidden_layers, " layers; it was learned for another model");
  return rotations;
}

}  // namespace dartquant::calibration
