// Parsing and validation of the JSON header of a safetensors file (private to src/io).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dartquant/io/safetensors_file.h"

namespace dartquant::io::detail {

/// A header that passed every check, with its tensors in file order.
struct ParsedHeader {
  std::vector<TensorInfo> tensors;              ///< sorted by (data_begin, data_end, name)
  std::map<std::string, std::string> metadata;  ///< the "__metadata__" object
  uint64_t uncovered_bytes = 0;                 ///< data-section bytes that no tensor covers
};

/// Parses the header JSON `text` of `file`, whose data section is `data_size` bytes long, and
/// checks every entry against the format and the data section. Throws dartquant::Error whose
/// message starts with `file` and names the tensor and the problem.
ParsedHeader parse_header(std::string_view text, uint64_t data_size, const std::filesystem::path& file);

/// Formats a shape as "[2, 3]" for messages.
std::string format_shape(const std::vector<int64_t>& shape);

}  // namespace dartquant::io::detail
