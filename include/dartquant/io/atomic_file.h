// Atomic replacement of a file: write a temporary beside it, then rename it over the target.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "dartquant/core/error.h"

namespace dartquant::io {

/// A temporary file in the target's directory that becomes the target on commit().
///
/// Readers of the target see either the old file or the complete new one, never a partial
/// write, because rename(2) within one directory is atomic. If the object is destroyed before
/// commit() (an exception, an early return), the temporary is removed and the target is left
/// untouched. The temporary is named ".<target name>.tmp-<random>" so that directory listings and
/// globs for the target's extension skip it. Not thread-safe: use one writer per object.
///
/// Example:
///   AtomicFile file(dir / "results.json");
///   file.write(text);
///   file.commit();
class AtomicFile {
 public:
  /// Creates the temporary file (mode 0666 minus the umask) next to `target`. Throws
  /// dartquant::Error naming the directory and the OS error when the parent does not exist, is
  /// not a directory, or is not writable.
  explicit AtomicFile(std::filesystem::path target);

  /// Removes the temporary file unless commit() succeeded.
  ~AtomicFile();

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  AtomicFile(AtomicFile&&) = delete;
  AtomicFile& operator=(AtomicFile&&) = delete;

  /// Path that commit() will create or replace.
  const std::filesystem::path& target() const { return target_; }

  /// Path of the temporary file being written.
  const std::filesystem::path& temp_path() const { return temp_path_; }

  /// Appends `size` bytes from `data`, retrying short writes and EINTR. Throws dartquant::Error
  /// naming the target when the write fails, for example on a full disk.
  void write(const void* data, size_t size);

  /// Appends the bytes of `bytes`.
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  /// Flushes the data to disk (fsync), closes the file, renames it over the target and syncs
  /// the directory so that the rename survives a crash. Throws dartquant::Error on failure, and
  /// the destructor then still removes the temporary. A second call, or a write() after
  /// commit(), throws.
  void commit();

  /// Whether commit() has completed.
  bool committed() const { return committed_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `bytes` to `path` atomically through an AtomicFile.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace dartquant::io
