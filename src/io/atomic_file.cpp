#include "dartquant/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "dartquant/core/error.h"

namespace dartquant::io {
namespace {

// A fresh random suffix per attempt. O_EXCL turns a name collision into a retry, never a clobber.
std::string random_suffix() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string suffix(12, ' ');
  for (auto& c : suffix) {
    c = kAlphabet[pick(generator)];
  }
  return suffix;
}

std::filesystem::path parent_or_current(const std::filesystem::path& path) {
  auto parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// Makes a completed rename durable: without it a crash can lose the new directory entry.
void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  DQ_CHECK(!target_.filename().empty(), "cannot write to ", target_.string(), ": the path names no file");
  const auto directory = parent_or_current(target_);

  constexpr int kAttempts = 16;
  int error = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto candidate = directory / ("." + target_.filename().string() + ".tmp-" + random_suffix());
    fd_ = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      temp_path_ = std::move(candidate);
      return;
    }
    error = errno;
    if (error != EEXIST) {
      break;
    }
  }
  throw Error(str("cannot write ", target_.string(), ": failed to create a temporary file in ",
                  directory.string(), ": ", std::strerror(error)));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (!committed_ && !temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t size) {
  DQ_CHECK(fd_ >= 0 && !committed_, "cannot write ", target_.string(), ": the file is already committed");
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd_, bytes, size);
    if (written < 0) {
      const int error = errno;
      if (error == EINTR) {
        continue;
      }
      throw Error(str("cannot write ", target_.string(), ": write to ", temp_path_.string(),
                      " failed: ", std::strerror(error)));
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

void AtomicFile::commit() {
  DQ_CHECK(fd_ >= 0 && !committed_, "cannot commit ", target_.string(), ": the file is already committed");

  // Data must reach the disk before the rename, or a crash could leave a complete-looking
  // target with missing contents.
  if (::fsync(fd_) != 0) {
    const int error = errno;
    throw Error(str("cannot write ", target_.string(), ": fsync failed: ", std::strerror(error)));
  }
  const int close_result = ::close(std::exchange(fd_, -1));
  if (close_result != 0) {
    const int error = errno;
    throw Error(str("cannot write ", target_.string(), ": close failed: ", std::strerror(error)));
  }

  if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
    const int error = errno;
    throw Error(str("cannot write ", target_.string(), ": rename from ", temp_path_.string(),
                    " failed: ", std::strerror(error)));
  }
  committed_ = true;
  sync_directory(parent_or_current(target_));
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

}  // namespace dartquant::io
