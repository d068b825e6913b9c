// Whole-file reads for tokenizer files.
#pragma once

#include <filesystem>
#include <string>

namespace dartquant::tokenizer {

/// Returns the bytes of `path` unchanged. Throws dartquant::Error naming the path and the OS
/// error when the file is missing, is not a regular file or cannot be read.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace dartquant::tokenizer
