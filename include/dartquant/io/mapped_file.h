// Read-only memory mapping of a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "dartquant/core/error.h"

namespace dartquant::io {

/// Access pattern hints passed to madvise(2) for a byte range of a MappedFile.
enum class Advice {
  kNormal,      ///< default read-ahead
  kSequential,  ///< aggressive read-ahead, pages may be dropped after use
  kRandom,      ///< no read-ahead
  kWillNeed,    ///< start reading the range in the background now
  kDontNeed,    ///< drop the pages from this process's resident set (the page cache keeps them)
};

/// A whole file mapped read-only (PROT_READ, MAP_PRIVATE) for the lifetime of the object.
///
/// The bytes are readable but never writable: a write through data() faults. A file that another
/// process truncates while it is mapped raises SIGBUS on access to the lost pages, which no check
/// here can prevent. An empty file is valid and has data() == nullptr.
class MappedFile {
 public:
  /// Opens and maps `path`. Throws dartquant::Error naming the path and the OS error when the
  /// file cannot be opened or mapped, or is not a regular file.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  /// Path the file was opened with.
  const std::filesystem::path& path() const { return path_; }

  /// First byte of the mapping, nullptr for an empty file. Valid until this object is destroyed.
  const uint8_t* data() const { return data_; }

  /// File size in bytes at the time it was mapped.
  size_t size() const { return size_; }

  /// Passes `advice` for bytes [offset, offset + length) to madvise(2). The range is widened to
  /// page boundaries and clipped to the file. A failed madvise only costs speed, so it is
  /// ignored rather than thrown.
  void advise(size_t offset, size_t length, Advice advice) const;

 private:
  void release() noexcept;

  std::filesystem::path path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace dartquant::io
