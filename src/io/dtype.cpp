#include "dartquant/io/dtype.h"

#include <array>

#include "dartquant/core/error.h"

namespace dartquant::io {
namespace {

struct DTypeTraits {
  DType dtype;
  const char* name;
  size_t size;
  at::ScalarType scalar_type;
};

// One row per DType, in enum order, so that the table is indexed by the enum value.
constexpr std::array<DTypeTraits, 10> kTraits{{
    {DType::F64, "F64", 8, at::kDouble},
    {DType::F32, "F32", 4, at::kFloat},
    {DType::F16, "F16", 2, at::kHalf},
    {DType::BF16, "BF16", 2, at::kBFloat16},
    {DType::I64, "I64", 8, at::kLong},
    {DType::I32, "I32", 4, at::kInt},
    {DType::I16, "I16", 2, at::kShort},
    {DType::I8, "I8", 1, at::kChar},
    {DType::U8, "U8", 1, at::kByte},
    {DType::BOOL, "BOOL", 1, at::kBool},
}};

const DTypeTraits& traits(DType dtype) {
  const auto index = static_cast<size_t>(dtype);
  DQ_CHECK(index < kTraits.size(), "invalid DType value ", index);
  return kTraits[index];
}

}  // namespace

std::string dtype_name(DType dtype) { return traits(dtype).name; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& row : kTraits) {
    if (name == row.name) {
      return row.dtype;
    }
  }
  return std::nullopt;
}

std::string supported_dtype_names() {
  std::string names;
  for (const auto& row : kTraits) {
    if (!names.empty()) {
      names += ", ";
    }
    names += row.name;
  }
  return names;
}

size_t dtype_size(DType dtype) { return traits(dtype).size; }

at::ScalarType to_scalar_type(DType dtype) { return traits(dtype).scalar_type; }

DType from_scalar_type(at::ScalarType type) {
  for (const auto& row : kTraits) {
    if (row.scalar_type == type) {
      return row.dtype;
    }
  }
  throw Error(str("scalar type ", c10::toString(type), " cannot be stored in safetensors (supported: ",
                  supported_dtype_names(), ")"));
}

}  // namespace dartquant::io
