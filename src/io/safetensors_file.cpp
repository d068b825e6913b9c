#include "dartquant/io/safetensors_file.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "dartquant/core/error.h"
#include "dartquant/io/mapped_file.h"
#include "safetensors_header.h"
#include "strict_json.h"

// Tensor bytes are copied or viewed as they are stored, and safetensors stores little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the safetensors reader assumes a little-endian host");

namespace dartquant::io {
namespace {

constexpr uint64_t kLengthFieldBytes = 8;

uint64_t read_header_length(const MappedFile& mapping) {
  uint64_t length = 0;
  std::memcpy(&length, mapping.data(), sizeof(length));
  return length;
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t count = 1;
  for (const int64_t dim : shape) {
    count *= dim;
  }
  return count;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  auto mapping = std::make_shared<const MappedFile>(path);
  const std::string file = path.string();
  const uint64_t file_size = mapping->size();

  // Check the length field before trusting it: every later offset is derived from it.
  DQ_CHECK(file_size >= kLengthFieldBytes, file, ": file is ", file_size,
           " bytes long, shorter than the 8-byte header length of a safetensors file");
  const uint64_t header_length = read_header_length(*mapping);
  DQ_CHECK(header_length <= kMaxHeaderBytes, file, ": header length ", header_length, " bytes exceeds the limit of ",
           kMaxHeaderBytes, " bytes; the file is corrupt or not a safetensors file");
  DQ_CHECK(header_length <= file_size - kLengthFieldBytes, file, ": header length ", header_length,
           " bytes runs past the end of the file (", file_size, " bytes); the file is truncated or corrupt");

  const uint64_t data_offset = kLengthFieldBytes + header_length;
  const std::string_view header_text(reinterpret_cast<const char*>(mapping->data() + kLengthFieldBytes),
                                     header_length);
  auto parsed = detail::parse_header(header_text, file_size - data_offset, path);
  if (parsed.uncovered_bytes > 0) {
    spdlog::warn("{}: {} of {} bytes in the data section belong to no tensor; the file may be damaged", file,
                 parsed.uncovered_bytes, file_size - data_offset);
  }

  return std::shared_ptr<SafetensorsFile>(new SafetensorsFile(path, std::move(mapping), data_offset,
                                                              std::move(parsed.tensors), std::move(parsed.metadata)));
}

SafetensorsFile::SafetensorsFile(std::filesystem::path path, std::shared_ptr<const MappedFile> mapping,
                                 uint64_t data_offset, std::vector<TensorInfo> tensors,
                                 std::map<std::string, std::string> metadata)
    : path_(std::move(path)),
      mapping_(std::move(mapping)),
      data_offset_(data_offset),
      tensors_(std::move(tensors)),
      metadata_(std::move(metadata)) {
  index_.reserve(tensors_.size());
  for (size_t i = 0; i < tensors_.size(); ++i) {
    index_.emplace(tensors_[i].name, i);
  }
}

SafetensorsFile::~SafetensorsFile() = default;

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& SafetensorsFile::require(const std::string& name) const {
  const TensorInfo* info = find(name);
  DQ_CHECK(info != nullptr, path_.string(), ": no tensor named ", detail::quote_text(name), " (the file has ",
           tensors_.size(), " tensors)");
  return *info;
}

const uint8_t* SafetensorsFile::tensor_data(const TensorInfo& info) const {
  return mapping_->data() + data_offset_ + info.data_begin;
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
  const TensorInfo& info = require(name);
  auto tensor = at::empty(info.shape, at::TensorOptions().dtype(to_scalar_type(info.dtype)));
  if (info.nbytes() > 0) {
    // Read-ahead of exactly this range: a model is loaded tensor by tensor, and the default
    // window would either stop short of a large tensor or read a neighbour that is not needed.
    mapping_->advise(data_offset_ + info.data_begin, info.nbytes(), Advice::kWillNeed);
    std::memcpy(tensor.data_ptr(), tensor_data(info), info.nbytes());
    // The copy is all the caller keeps. Without this the mapped pages stay in the
    // resident set, and loading a model layer by layer would still grow with depth.
    mapping_->advise(data_offset_ + info.data_begin, info.nbytes(), Advice::kDontNeed);
  }
  check_bool_values(info, tensor);
  return tensor;
}

at::Tensor SafetensorsFile::view(const std::string& name) const {
  const TensorInfo& info = require(name);
  const uint8_t* data = tensor_data(info);
  if (reinterpret_cast<uintptr_t>(data) % dtype_size(info.dtype) != 0) {
    spdlog::warn("{}: tensor {} is not aligned to its {}-byte elements, so it is copied instead of mapped; "
                 "rewrite the file with write_safetensors to align it",
                 path_.string(), detail::quote_text(name), dtype_size(info.dtype));
    return load(name);
  }

  // The deleter owns a reference to the mapping, so the view stays valid after this object and
  // every other owner of the mapping are gone. from_blob needs a non-const pointer, but the
  // pages are mapped PROT_READ and a write faults.
  auto keep_alive = mapping_;
  auto tensor = at::from_blob(
      const_cast<uint8_t*>(data), info.shape, [keep_alive](void*) mutable { keep_alive.reset(); },
      at::TensorOptions().dtype(to_scalar_type(info.dtype)));
  check_bool_values(info, tensor);
  return tensor;
}

// ATen assumes a bool byte is 0 or 1. Other values make comparisons and reductions disagree.
void SafetensorsFile::check_bool_values(const TensorInfo& info, const at::Tensor& tensor) const {
  if (info.dtype != DType::BOOL || tensor.numel() == 0) {
    return;
  }
  const bool valid = tensor.view(at::kByte).le(1).all().item<bool>();
  DQ_CHECK(valid, path_.string(), ": tensor ", detail::quote_text(info.name),
           ": BOOL data contains bytes other than 0 and 1");
}

}  // namespace dartquant::io
