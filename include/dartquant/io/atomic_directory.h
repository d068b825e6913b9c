// Atomic creation of an output folder: fill a hidden staging folder beside the
// target, then rename it into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace dartquant::io {

/// The checks of the AtomicDirectory constructor alone, to fail before slow
/// work: `target` must not exist (with `overwrite`: may be a folder), and its
/// parent must exist and be writable.
void check_output_folder(const std::filesystem::path& target, bool overwrite);

/// Throws dartquant::Error when the file system of `target`'s parent has
/// fewer than `bytes` bytes free for this user; `what` names the output in
/// the message, which gives both sizes.
void check_free_space(const std::filesystem::path& target, int64_t bytes, const std::string& what);

/// A staging folder ".<target name>.partial-<pid>" beside `target` that becomes
/// `target` on commit().
///
/// Readers see either no folder (or the old one) or the complete new folder:
/// rename(2) within one parent is atomic. Destroying the object before commit()
/// removes the staging folder. A process killed with SIGKILL leaves only the
/// hidden staging folder, and the next AtomicDirectory for the same target
/// removes staging folders whose process no longer runs.
class AtomicDirectory {
 public:
  /// Checks that `target` does not exist (or, with `overwrite`, that it is a
  /// folder) and that its parent exists and is writable, then creates the
  /// staging folder. Throws dartquant::Error naming the path and the remedy.
  AtomicDirectory(std::filesystem::path target, bool overwrite);

  /// Removes the staging folder unless commit() succeeded.
  ~AtomicDirectory();

  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  const std::filesystem::path& target() const { return target_; }

  /// Folder to write the contents into.
  const std::filesystem::path& staging() const { return staging_; }

  /// Syncs the staging folder and renames it to the target. With `overwrite`,
  /// an existing target is first renamed aside and removed after the swap.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool overwrite_ = false;
  bool committed_ = false;
};

}  // namespace dartquant::io
