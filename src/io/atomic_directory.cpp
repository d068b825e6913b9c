#include "dartquant/io/atomic_directory.h"

#include <sys/statvfs.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/core/memory.h"

namespace dartquant::io {
namespace {

std::string staging_prefix(const std::filesystem::path& target) {
  return "." + target.filename().string() + ".partial-";
}

/// Removes staging folders of `target` left by processes that no longer run
/// (a SIGKILL or a power loss during an earlier write).
void remove_stale_staging(const std::filesystem::path& target) {
  const auto prefix = staging_prefix(target);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(target.parent_path(), error)) {
    auto name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) {
      continue;
    }
    pid_t pid = 0;
    try {
      pid = static_cast<pid_t>(std::stol(name.substr(prefix.size())));
    } catch (const std::exception&) {
      continue;
    }
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
      spdlog::info("removing {}, left by an interrupted earlier run", entry.path().string());
      std::filesystem::remove_all(entry.path(), error);
    }
  }
}

/// fsync of a folder, so that renames and new entries in it survive a crash.
void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// `target` as an absolute path without a trailing separator.
std::filesystem::path normalized(const std::filesystem::path& target) {
  auto path = std::filesystem::absolute(target).lexically_normal();
  return path.filename().empty() ? path.parent_path() : path;
}

}  // namespace

void check_free_space(const std::filesystem::path& target, int64_t bytes, const std::string& what) {
  auto parent = normalized(target).parent_path();
  struct statvfs info {};
  if (::statvfs(parent.c_str(), &info) != 0) {
    return;  // the folder checks report a missing parent
  }
  auto available = static_cast<int64_t>(info.f_bavail) * static_cast<int64_t>(info.f_frsize);
  DQ_CHECK(available >= bytes, parent.string(), ": ", format_mib(available), " free, but ", what, " needs about ",
           format_mib(bytes), "; free some space or write elsewhere");
}

void check_output_folder(const std::filesystem::path& target, bool overwrite) {
  auto path = normalized(target);
  auto parent = path.parent_path();
  DQ_CHECK(!std::filesystem::exists(parent) || std::filesystem::is_directory(parent), "cannot write ", path.string(),
           ": ", parent.string(), " is a file, not a folder");
  DQ_CHECK(std::filesystem::is_directory(parent), "cannot write ", path.string(), ": the parent folder ",
           parent.string(), " does not exist; create it first");
  DQ_CHECK(::access(parent.c_str(), W_OK) == 0, "cannot write ", path.string(), ": the parent folder ",
           parent.string(), " is not writable (", std::strerror(errno), ")");
  if (std::filesystem::exists(path)) {
    DQ_CHECK(std::filesystem::is_directory(path), "cannot write ", path.string(),
             ": it is a file, not a folder; choose another output folder");
    DQ_CHECK(overwrite, path.string(), " already exists; remove it, choose another output folder, or pass "
             "--overwrite");
  }
}

AtomicDirectory::AtomicDirectory(std::filesystem::path target, bool overwrite)
    : target_(normalized(target)), overwrite_(overwrite) {
  check_output_folder(target_, overwrite_);
  auto parent = target_.parent_path();
  remove_stale_staging(target_);
  staging_ = parent / (staging_prefix(target_) + std::to_string(::getpid()));
  std::error_code error;
  std::filesystem::remove_all(staging_, error);
  DQ_CHECK(std::filesystem::create_directory(staging_, error), "cannot create the staging folder ", staging_.string(),
           ": ", error.message());
}

AtomicDirectory::~AtomicDirectory() {
  if (!committed_ && !staging_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(staging_, error);
  }
}

void AtomicDirectory::commit() {
  DQ_CHECK(!committed_, "the output folder ", target_.string(), " is already committed");
  sync_folder(staging_);

  std::filesystem::path old;
  if (std::filesystem::exists(target_)) {
    old = target_.parent_path() / ("." + target_.filename().string() + ".old-" + std::to_string(::getpid()));
    std::error_code error;
    std::filesystem::rename(target_, old, error);
    DQ_CHECK(!error, "cannot move the existing ", target_.string(), " aside: ", error.message());
  }
  std::error_code error;
  std::filesystem::rename(staging_, target_, error);
  if (error && !old.empty()) {
    std::error_code restore_error;
    std::filesystem::rename(old, target_, restore_error);
  }
  DQ_CHECK(!error, "cannot rename ", staging_.string(), " to ", target_.string(), ": ", error.message());
  committed_ = true;
  sync_folder(target_.parent_path());
  if (!old.empty()) {
    std::filesystem::remove_all(old, error);
  }
}

}  // namespace dartquant::io
