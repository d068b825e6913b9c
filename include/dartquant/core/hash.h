// SHA-256 digests (OpenSSL) for recording exactly which inputs produced a result.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace dartquant {

/// Hex SHA-256 of a byte range.
std::string sha256_hex(const void* data, size_t size);

/// Hex SHA-256 of a file's contents, read in chunks.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace dartquant
