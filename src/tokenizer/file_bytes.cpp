#include "tokenizer/file_bytes.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "dartquant/core/error.h"

namespace dartquant::tokenizer {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  DQ_CHECK(std::filesystem::exists(status), path.string(), ": file not found");
  DQ_CHECK(std::filesystem::is_regular_file(status), path.string(), ": not a regular file");

  std::ifstream in(path, std::ios::binary);
  DQ_CHECK(in.is_open(), path.string(), ": cannot open: ", std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  DQ_CHECK(!in.bad(), path.string(), ": read failed: ", std::strerror(errno));
  return bytes;
}

}  // namespace dartquant::tokenizer
