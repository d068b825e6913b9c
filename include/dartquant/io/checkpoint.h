// A model checkpoint made of one safetensors file or of shards listed in an index.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dartquant/core/error.h"
#include "dartquant/io/safetensors_file.h"

namespace dartquant::io {

/// The tensors of a model, found by name across one or more safetensors files.
///
/// open() accepts a folder, a single .safetensors file, or a sharded index file
/// (`*.safetensors.index.json`, the Hugging Face layout: {"metadata": {...}, "weight_map":
/// {tensor name: shard file name}}). A folder must contain model.safetensors or
/// model.safetensors.index.json. When it has both, the single file is used, with a warning.
///
/// Every file is mapped and validated when the checkpoint is opened, and tensors are read
/// lazily. Copies share the mapped files, and the object is immutable, so it may be used from
/// several threads at once.
class Checkpoint {
 public:
  /// Creates an empty checkpoint with no files and no tensors, to be assigned from open().
  Checkpoint() = default;

  /// Opens a folder, a .safetensors file or an index file. Throws dartquant::Error when the path
  /// contains no checkpoint (listing the names looked for), when a file is invalid (see
  /// SafetensorsFile::open), or when an index is inconsistent: invalid JSON, missing
  /// "weight_map", a shard path that is absolute or leaves the index's folder, a shard that does
  /// not exist, or a listed tensor that its shard does not contain. Tensors that a shard contains
  /// but the index does not list are ignored with a warning, because the index decides which
  /// file provides each tensor.
  static Checkpoint open(const std::filesystem::path& dir_or_file);

  /// Path that open() was given.
  const std::filesystem::path& path() const { return path_; }

  /// Whether the checkpoint has a tensor named `name`.
  bool contains(const std::string& name) const;

  /// Returns the entry of tensor `name`, whose offsets are relative to the data section of the
  /// file that contains it. Throws dartquant::Error naming the tensor and the checkpoint when
  /// the tensor is absent.
  const TensorInfo& info(const std::string& name) const;

  /// Copies tensor `name` into a new contiguous CPU tensor of the stored dtype
  /// (see SafetensorsFile::load). Throws dartquant::Error when it is absent.
  at::Tensor load(const std::string& name) const;

  /// Returns a zero-copy, read-only view of tensor `name` (see SafetensorsFile::view).
  at::Tensor view(const std::string& name) const;

  /// Returns the file that contains tensor `name`. Throws dartquant::Error when it is absent.
  const SafetensorsFile& file_of(const std::string& name) const;

  /// All tensor names, sorted.
  std::vector<std::string> names() const;

  /// Number of tensors.
  size_t size() const { return entries_.size(); }

  /// The safetensors files, sorted by path (one for an unsharded checkpoint).
  std::vector<std::filesystem::path> files() const;

  /// Metadata of the index (its "metadata" object, with values that are not strings written as
  /// JSON text, e.g. total_size "6170880"), or the "__metadata__" of a single file.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Entry {
    const SafetensorsFile* file = nullptr;  // owned by files_
    const TensorInfo* info = nullptr;       // points into file->tensors()
  };

  static Checkpoint open_single(const std::filesystem::path& requested_path, const std::filesystem::path& file);
  static Checkpoint open_index(const std::filesystem::path& requested_path, const std::filesystem::path& index);
  const Entry& require(const std::string& name) const;

  std::filesystem::path path_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace dartquant::io
