// Reading one safetensors file: header validation and lazy, per-tensor loads from a mapping.
//
// Layout (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian header
// length N, then N bytes of UTF-8 JSON, then the data section. The JSON object maps each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]}, with offsets relative to the start of
// the data section, plus an optional "__metadata__" object of string values. Tensor bytes are
// row-major (C order) and little-endian, so this reader builds on little-endian hosts only.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dartquant/core/error.h"
#include "dartquant/io/dtype.h"

namespace dartquant::io {

class MappedFile;

/// Largest header accepted, in bytes. The Rust safetensors crate uses the same limit
/// (MAX_HEADER_SIZE in safetensors/src/tensor.rs), and it bounds the memory that a hostile
/// header can make the JSON parser allocate.
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

/// One tensor entry of a safetensors header, validated against the file.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  ///< dimensions, outermost first (empty for a scalar)
  uint64_t data_begin = 0;     ///< first byte, relative to the start of the data section
  uint64_t data_end = 0;       ///< one past the last byte, relative to the start of the data section

  /// Number of elements: the product of `shape`, 1 for a scalar, 0 if any dimension is 0.
  int64_t numel() const;

  /// Size of the stored bytes, data_end - data_begin (equals numel() * dtype_size(dtype)).
  uint64_t nbytes() const { return data_end - data_begin; }
};

/// A memory-mapped safetensors file whose header has been fully validated.
///
/// open() checks every header field against the file before any tensor is touched, so a corrupt
/// or hostile file fails there with a dartquant::Error naming the file, the tensor and the
/// problem. Tensors are read lazily, one per load() call. The object is immutable after open(),
/// so load() and view() may be called from several threads at once.
class SafetensorsFile {
 public:
  /// Maps `path` and validates its header. Throws dartquant::Error for a file that cannot be
  /// read or is not a valid safetensors file. Bytes of the data section that no tensor covers
  /// are accepted with a warning, although the Rust safetensors crate rejects such files (it
  /// requires the tensors to tile the data section exactly).
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  /// Path the file was opened with.
  const std::filesystem::path& path() const { return path_; }

  /// All tensors in file order (ascending data_begin).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  /// The entry for `name`, or nullptr when the file has no such tensor. The pointer stays valid
  /// as long as this object.
  const TensorInfo* find(const std::string& name) const;

  /// The "__metadata__" string map of the header (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  /// Absolute file offset of the data section: 8 + header length.
  uint64_t data_offset() const { return data_offset_; }

  /// Copies tensor `name` into a new, owning, contiguous CPU tensor of the stored dtype.
  /// Throws dartquant::Error if the file has no such tensor, or if a BOOL tensor contains bytes
  /// other than 0 and 1.
  at::Tensor load(const std::string& name) const;

  /// Returns tensor `name` as a zero-copy contiguous CPU tensor over the mapping. Its storage
  /// keeps the mapping alive after this object is gone. The memory is read-only, so an
  /// in-place op on the view crashes the process (SIGSEGV): clone() it before modifying.
  /// When the data is not aligned to the element size (a header length that is not a multiple
  /// of 8), this falls back to load() with a warning.
  at::Tensor view(const std::string& name) const;

 private:
  SafetensorsFile(std::filesystem::path path, std::shared_ptr<const MappedFile> mapping,
                  uint64_t data_offset, std::vector<TensorInfo> tensors,
                  std::map<std::string, std::string> metadata);

  const TensorInfo& require(const std::string& name) const;
  const uint8_t* tensor_data(const TensorInfo& info) const;
  void check_bool_values(const TensorInfo& info, const at::Tensor& tensor) const;

  std::filesystem::path path_;
  std::shared_ptr<const MappedFile> mapping_;
  uint64_t data_offset_ = 0;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

}  // namespace dartquant::io
