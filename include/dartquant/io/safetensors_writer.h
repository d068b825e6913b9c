// Writing tensors to a safetensors file.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dartquant/core/error.h"

namespace dartquant::io {

/// Options for write_safetensors.
struct WriteOptions {
  std::map<std::string, std::string> metadata;  ///< stored as the header's "__metadata__" when not empty
};

/// A tensor whose values are read only when they are written, so that a large
/// model can be written from files one tensor at a time.
struct DeferredTensor {
  std::string name;
  at::Tensor like;                   ///< gives the dtype and shape; may be a meta tensor
  std::function<at::Tensor()> read;  ///< the values, called once, when they are written
};

/// Returns a DeferredTensor that keeps `tensor` itself.
DeferredTensor hold(std::string name, at::Tensor tensor);

/// Writes `tensors` to a safetensors file at `path`, replacing any existing file atomically.
///
/// The tensors may be given in any order, on any device, and need not be contiguous. Each is
/// copied to CPU in turn and stored row-major, sorted by name, back to back from offset 0.
/// The header is padded with spaces to a multiple of 8 bytes, so every tensor starts 8-byte
/// aligned in the file. Supported dtypes are those of DType.
///
/// All inputs are checked before anything is written, and the data goes to a temporary file in
/// the same directory that is fsynced and then renamed over `path` (see AtomicFile). On any
/// failure the temporary is removed, no file appears at `path`, and dartquant::Error is thrown:
/// for an undefined, sparse or unsupported-dtype tensor (naming it), a duplicate name, the name
/// "__metadata__", or an I/O error.
void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const WriteOptions& options = {});
void write_deferred_safetensors(const std::filesystem::path& path, const std::vector<DeferredTensor>& tensors,
                                const WriteOptions& options = {});

/// Writes `tensors` into `folder` as model.safetensors, or, when they exceed
/// `max_shard_bytes`, as model-0000i-of-0000N.safetensors shards in the given
/// order (a tensor larger than the limit gets a shard of its own) with
/// model.safetensors.index.json, the Hugging Face layout. Returns the bytes of
/// tensor data. Each file is written atomically.
int64_t write_sharded_safetensors(const std::filesystem::path& folder, const std::vector<DeferredTensor>& tensors,
                                  int64_t max_shard_bytes);

}  // namespace dartquant::io
