// Element types of safetensors files and their mapping to ATen scalar types.
#pragma once

#include <c10/core/ScalarType.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "dartquant/core/error.h"

namespace dartquant::io {

/// Element type of a stored tensor, spelled as in the safetensors header.
///
/// These are the safetensors dtypes that have an ATen equivalent in libtorch 1.13. The others
/// (U16, U32, U64 and the F8 variants) are rejected when a file is opened.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/// Returns the safetensors spelling of `dtype`: "F64", "F32", ..., "BOOL".
std::string dtype_name(DType dtype);

/// Parses a safetensors dtype string (case-sensitive, e.g. "BF16"). Returns std::nullopt for any
/// other string, including dtypes valid in safetensors but unsupported here.
std::optional<DType> parse_dtype(std::string_view name);

/// Returns the supported dtype names as one comma-separated list, for error messages.
std::string supported_dtype_names();

/// Returns the size of one element in bytes (BOOL is one byte).
size_t dtype_size(DType dtype);

/// Returns the ATen scalar type that stores `dtype` (BF16 -> at::kBFloat16, BOOL -> at::kBool).
at::ScalarType to_scalar_type(DType dtype);

/// Returns the dtype for an ATen scalar type. Throws dartquant::Error for types with no
/// safetensors equivalent here (complex, quantized, unsigned wider than 8 bits).
DType from_scalar_type(at::ScalarType type);

}  // namespace dartquant::io
