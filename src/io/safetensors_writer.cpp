#include "dartquant/io/safetensors_writer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "dartquant/core/error.h"
#include "dartquant/io/atomic_file.h"
#include "dartquant/io/dtype.h"
#include "dartquant/io/safetensors_file.h"
#include "strict_json.h"

// The raw bytes of each tensor are written as they lie in memory, and safetensors stores
// little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the safetensors writer assumes a little-endian host");

namespace dartquant::io {
namespace {

using Json = nlohmann::json;
using detail::quote_text;

// The length field is 8 bytes, so padding the header to a multiple of 8 puts the data section,
// and every tensor in it, on an 8-byte boundary.
constexpr size_t kAlignment = 8;

// One input tensor with its place in the output file.
struct PlannedTensor {
  const std::string* name = nullptr;
  const DeferredTensor* tensor = nullptr;
  DType dtype = DType::F32;
  uint64_t data_begin = 0;
  uint64_t data_end = 0;
};

PlannedTensor plan_tensor(const DeferredTensor& deferred, uint64_t data_begin, const std::filesystem::path& path) {
  const std::string& name = deferred.name;
  const at::Tensor& tensor = deferred.like;
  const std::string prefix = str("cannot write ", path.string(), ": tensor ", quote_text(name), " ");
  DQ_CHECK(name != "__metadata__", prefix, "uses the name reserved for the header metadata");
  DQ_CHECK(detail::is_valid_utf8(name), prefix, "has a name that is not valid UTF-8");
  DQ_CHECK(tensor.defined(), prefix, "is undefined");
  DQ_CHECK(tensor.layout() == at::kStrided, prefix, "has layout ", tensor.layout(), "; only dense tensors can be "
           "stored (call to_dense() first)");
  DQ_CHECK(!tensor.is_meta() || deferred.read, prefix, "is on the meta device and has no data");

  PlannedTensor planned;
  planned.name = &name;
  planned.tensor = &deferred;
  try {
    planned.dtype = from_scalar_type(tensor.scalar_type());
  } catch (const Error& error) {
    throw Error(prefix + "has an unsupported dtype: " + error.what());
  }

  uint64_t nbytes = 0;
  const bool overflow = __builtin_mul_overflow(static_cast<uint64_t>(tensor.numel()),
                                               static_cast<uint64_t>(dtype_size(planned.dtype)), &nbytes) ||
                        __builtin_add_overflow(data_begin, nbytes, &planned.data_end);
  DQ_CHECK(!overflow, prefix, "makes the data section larger than 2^64 bytes");
  planned.data_begin = data_begin;
  return planned;
}

// Checks every input before the file is created, and assigns offsets in name order.
std::vector<PlannedTensor> plan_layout(const std::vector<DeferredTensor>& tensors, const std::filesystem::path& path) {
  std::vector<const DeferredTensor*> sorted;
  sorted.reserve(tensors.size());
  for (const auto& item : tensors) {
    sorted.push_back(&item);
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->name < b->name; });

  std::vector<PlannedTensor> planned;
  planned.reserve(sorted.size());
  uint64_t offset = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const std::string& name = sorted[i]->name;
    DQ_CHECK(i == 0 || sorted[i - 1]->name != name, "cannot write ", path.string(), ": duplicate tensor name ",
             quote_text(name));
    planned.push_back(plan_tensor(*sorted[i], offset, path));
    offset = planned.back().data_end;
  }
  return planned;
}

std::string build_header(const std::vector<PlannedTensor>& planned, const WriteOptions& options,
                         const std::filesystem::path& path) {
  Json header = Json::object();
  if (!options.metadata.empty()) {
    for (const auto& [key, value] : options.metadata) {
      DQ_CHECK(detail::is_valid_utf8(key) && detail::is_valid_utf8(value), "cannot write ", path.string(),
               ": metadata entry ", quote_text(key), " is not valid UTF-8");
    }
    header["__metadata__"] = options.metadata;
  }
  for (const auto& item : planned) {
    header[*item.name] = {{"dtype", dtype_name(item.dtype)},
                          {"shape", item.tensor->like.sizes().vec()},
                          {"data_offsets", {item.data_begin, item.data_end}}};
  }

  std::string text = header.dump();
  text.append((kAlignment - text.size() % kAlignment) % kAlignment, ' ');
  DQ_CHECK(text.size() <= kMaxHeaderBytes, "cannot write ", path.string(), ": the header would be ", text.size(),
           " bytes, more than readers accept (", kMaxHeaderBytes, ")");
  return text;
}

// A contiguous CPU copy when the input is elsewhere or strided, the input itself otherwise.
at::Tensor to_dense_cpu(const at::Tensor& tensor, const std::string& name, const std::filesystem::path& path) {
  try {
    return tensor.to(at::kCPU).resolve_conj().resolve_neg().contiguous();
  } catch (const c10::Error& error) {
    throw Error(str("cannot write ", path.string(), ": tensor ", quote_text(name),
                    " could not be copied to CPU memory: ", error.what_without_backtrace()));
  }
}

}  // namespace

DeferredTensor hold(std::string name, at::Tensor tensor) {
  auto read = [tensor] { return tensor; };
  return DeferredTensor{std::move(name), std::move(tensor), std::move(read)};
}

void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const WriteOptions& options) {
  std::vector<DeferredTensor> held;
  held.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    held.push_back(hold(name, tensor));
  }
  write_deferred_safetensors(path, held, options);
}

void write_deferred_safetensors(const std::filesystem::path& path, const std::vector<DeferredTensor>& tensors,
                                const WriteOptions& options) {
  const auto planned = plan_layout(tensors, path);
  const std::string header = build_header(planned, options, path);

  AtomicFile file(path);
  const uint64_t header_length = header.size();
  file.write(&header_length, sizeof(header_length));
  file.write(header);

  // One tensor at a time, so that at most one CPU copy of a device tensor exists at once.
  for (const auto& item : planned) {
    const uint64_t nbytes = item.data_end - item.data_begin;
    if (nbytes == 0) {
      continue;
    }
    const at::Tensor dense = to_dense_cpu(item.tensor->read(), *item.name, path);
    DQ_CHECK(dense.scalar_type() == item.tensor->like.scalar_type() && dense.sizes() == item.tensor->like.sizes(),
             "cannot write ", path.string(), ": tensor ", quote_text(*item.name), " was read as ", dense.scalar_type(),
             " ", dense.sizes(), " but announced as ", item.tensor->like.scalar_type(), " ",
             item.tensor->like.sizes());
    file.write(dense.data_ptr(), nbytes);
  }
  file.commit();
}

int64_t write_sharded_safetensors(const std::filesystem::path& folder, const std::vector<DeferredTensor>& tensors,
                                  int64_t max_shard_bytes) {
  DQ_CHECK(max_shard_bytes > 0, "the shard size must be positive, got ", max_shard_bytes);
  std::vector<std::vector<DeferredTensor>> shards(1);
  int64_t shard_bytes = 0;
  int64_t total = 0;
  for (const auto& named : tensors) {
    int64_t bytes = named.like.numel() * static_cast<int64_t>(named.like.element_size());
    if (shard_bytes > 0 && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(named);
    shard_bytes += bytes;
    total += bytes;
  }

  WriteOptions options{{{"format", "pt"}}};
  if (shards.size() == 1) {
    write_deferred_safetensors(folder / "model.safetensors", tensors, options);
    return total;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_deferred_safetensors(folder / name, shards[i], options);
    for (const auto& named : shards[i]) {
      weight_map[named.name] = name;
    }
  }
  nlohmann::json index{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  write_file_atomically(folder / "model.safetensors.index.json", index.dump(2) + "\n");
  return total;
}

}  // namespace dartquant::io
