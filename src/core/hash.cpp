#include "dartquant/core/hash.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

#include "dartquant/core/error.h"

namespace dartquant {
namespace {

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

DigestContext new_context() {
  DigestContext context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  DQ_CHECK(context && EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) == 1, "SHA-256 initialization failed");
  return context;
}

std::string finish(EVP_MD_CTX* context) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  DQ_CHECK(EVP_DigestFinal_ex(context, digest, &length) == 1, "SHA-256 finalization failed");
  static const char* kHex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

}  // namespace

std::string sha256_hex(const void* data, size_t size) {
  auto context = new_context();
  DQ_CHECK(EVP_DigestUpdate(context.get(), data, size) == 1, "SHA-256 update failed");
  return finish(context.get());
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  DQ_CHECK(in.good(), path.string(), ": cannot be opened for hashing");
  auto context = new_context();
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    auto got = in.gcount();
    if (got > 0) {
      DQ_CHECK(EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(got)) == 1, "SHA-256 update failed");
    }
  }
  return finish(context.get());
}

}  // namespace dartquant
