#include "safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <tuple>

#include "dartquant/core/error.h"
#include "strict_json.h"

namespace dartquant::io::detail {
namespace {

using Json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

// A valid header nests three levels (object, entry, shape array). Anything far deeper is
// rejected while parsing instead of being built in memory.
constexpr int kMaxHeaderDepth = 8;

// Reads a JSON number as a non-negative integer that fits in int64, the range of an ATen size.
uint64_t to_size(const Json& value, const std::string& prefix, const std::string& field) {
  DQ_CHECK(value.is_number_integer(), prefix, field, " must be a non-negative integer, got ",
           printable(value.dump()));
  DQ_CHECK(value.is_number_unsigned(), prefix, field, " is negative (", value.get<int64_t>(), ")");
  const auto number = value.get<uint64_t>();
  DQ_CHECK(number <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), prefix, field, " = ",
           number, " exceeds the int64 range");
  return number;
}

const Json& require_field(const Json& entry, const char* field, const std::string& prefix) {
  const auto it = entry.find(field);
  DQ_CHECK(it != entry.end(), prefix, "missing \"", field, "\"");
  return *it;
}

DType parse_entry_dtype(const Json& entry, const std::string& prefix) {
  const Json& value = require_field(entry, "dtype", prefix);
  DQ_CHECK(value.is_string(), prefix, "\"dtype\" must be a string, got ", value.type_name());
  const auto& name = value.get_ref<const std::string&>();
  const auto dtype = parse_dtype(name);
  DQ_CHECK(dtype.has_value(), prefix, "unsupported dtype ", quote_text(name), " (supported: ", supported_dtype_names(),
           ")");
  return *dtype;
}

std::vector<int64_t> parse_entry_shape(const Json& entry, const std::string& prefix) {
  const Json& value = require_field(entry, "shape", prefix);
  DQ_CHECK(value.is_array(), prefix, "\"shape\" must be an array of integers, got ", value.type_name());

  std::vector<int64_t> shape;
  shape.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    shape.push_back(static_cast<int64_t>(to_size(value[i], prefix, str("shape[", i, "]"))));
  }
  return shape;
}

// Returns the element count. The product of the non-zero dimensions must fit in int64 even when
// another dimension is 0, because ATen multiplies all of them when it allocates.
uint64_t checked_numel(const std::vector<int64_t>& shape, const std::string& prefix) {
  uint64_t nonzero_product = 1;
  bool has_zero = false;
  for (const int64_t dim : shape) {
    if (dim == 0) {
      has_zero = true;
      continue;
    }
    const bool overflow = __builtin_mul_overflow(nonzero_product, static_cast<uint64_t>(dim), &nonzero_product);
    DQ_CHECK(!overflow && nonzero_product <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), prefix,
             "shape ", format_shape(shape), " has more elements than int64 can count");
  }
  return has_zero ? 0 : nonzero_product;
}

std::pair<uint64_t, uint64_t> parse_entry_offsets(const Json& entry, const std::string& prefix) {
  const Json& value = require_field(entry, "data_offsets", prefix);
  DQ_CHECK(value.is_array() && value.size() == 2, prefix,
           "\"data_offsets\" must be an array of two integers [begin, end], got ", printable(value.dump()));
  return {to_size(value[0], prefix, "data_offsets[0]"), to_size(value[1], prefix, "data_offsets[1]")};
}

TensorInfo parse_entry(const std::string& name, const Json& entry, uint64_t data_size, const std::string& file) {
  const std::string prefix = str(file, ": tensor ", quote_text(name), ": ");
  DQ_CHECK(entry.is_object(), prefix, "entry must be a JSON object with dtype, shape and data_offsets, got ",
           entry.type_name());

  // Keys other than the three below are ignored, as the Rust safetensors crate ignores them.
  TensorInfo info;
  info.name = name;
  info.dtype = parse_entry_dtype(entry, prefix);
  info.shape = parse_entry_shape(entry, prefix);
  const uint64_t numel = checked_numel(info.shape, prefix);
  std::tie(info.data_begin, info.data_end) = parse_entry_offsets(entry, prefix);

  const std::string offsets = str("data_offsets [", info.data_begin, ", ", info.data_end, "]");
  DQ_CHECK(info.data_begin <= info.data_end, prefix, offsets, " are reversed (begin > end)");
  DQ_CHECK(info.data_end <= data_size, prefix, offsets, " extend past the end of the data section (", data_size,
           " bytes)");

  uint64_t expected_bytes = 0;
  const bool overflow = __builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(info.dtype)), &expected_bytes);
  DQ_CHECK(!overflow && expected_bytes == info.nbytes(), prefix, "shape ", format_shape(info.shape), " with dtype ",
           dtype_name(info.dtype), " needs ", overflow ? std::string("more than 2^64") : std::to_string(expected_bytes),
           " bytes but ", offsets, " span ", info.nbytes(), " bytes");
  return info;
}

std::map<std::string, std::string> parse_metadata(const Json& value, const std::string& file) {
  DQ_CHECK(value.is_object(), file, ": \"__metadata__\" must be an object of string values, got ",
           value.type_name());
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    DQ_CHECK(item.is_string(), file, ": \"__metadata__\" value for key ", quote_text(key), " must be a string, got ",
             item.type_name());
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// Sorts into file order, rejects any two tensors sharing a byte, and counts uncovered bytes.
// A zero-size tensor occupies no byte, so it cannot overlap anything.
uint64_t check_layout(std::vector<TensorInfo>& tensors, uint64_t data_size, const std::string& file) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.data_begin, a.data_end, a.name) < std::tie(b.data_begin, b.data_end, b.name);
  });

  uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const auto& info : tensors) {
    if (info.nbytes() == 0) {
      continue;
    }
    if (previous != nullptr) {
      DQ_CHECK(info.data_begin >= previous->data_end, file, ": tensors ", quote_text(previous->name), " (bytes ",
               previous->data_begin, "..", previous->data_end, ") and ", quote_text(info.name), " (bytes ",
               info.data_begin, "..", info.data_end, ") overlap in the data section");
    }
    covered += info.nbytes();
    previous = &info;
  }
  return data_size - covered;
}

}  // namespace

std::string format_shape(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}

ParsedHeader parse_header(std::string_view text, uint64_t data_size, const std::filesystem::path& path) {
  const std::string file = path.string();
  const Json header = parse_strict_json(text, {file, "header", "tensor name", kMaxHeaderDepth});
  DQ_CHECK(header.is_object(), file, ": header must be a JSON object, got ", header.type_name());

  ParsedHeader parsed;
  parsed.tensors.reserve(header.size());
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      parsed.metadata = parse_metadata(entry, file);
    } else {
      parsed.tensors.push_back(parse_entry(name, entry, data_size, file));
    }
  }

  parsed.uncovered_bytes = check_layout(parsed.tensors, data_size, file);
  return parsed;
}

}  // namespace dartquant::io::detail
