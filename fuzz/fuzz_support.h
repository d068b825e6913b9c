// Helpers shared by the libFuzzer targets: a scratch folder for loaders that only take paths.
//
// Every target treats dartquant::Error (and its subclasses) as the documented rejection of a bad
// input. Any other exception escapes LLVMFuzzerTestOneInput, reaches std::terminate, and
// libFuzzer reports it as a crash, as it does for sanitizer reports and timeouts.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include "dartquant/core/error.h"

namespace dartquant::fuzz {

/// A folder under the system temp folder, unique to this process and removed when it exits
/// normally. A crashing run leaves it behind (named dartquant-fuzz-<random>).
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dartquant-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::abort();  // no scratch folder means no meaningful run
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The scratch folder of this process, created on first use.
inline const std::filesystem::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path();
}

/// Writes `bytes` to `path` (binary, truncating), creating missing parent folders.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::abort();  // a scratch write that fails would make every later result meaningless
  }
}

/// The fuzzer input as a string view.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace dartquant::fuzz
