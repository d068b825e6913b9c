#include "dartquant/io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dartquant/core/error.h"

namespace dartquant::io {
namespace {

// Closes a file descriptor on scope exit: the mapping outlives the descriptor.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

[[noreturn]] void throw_os_error(const std::filesystem::path& path, const char* action, int error) {
  throw Error(str(path.string(), ": ", action, ": ", std::strerror(error)));
}

int to_madvise_flag(Advice advice) {
  switch (advice) {
    case Advice::kNormal:
      return MADV_NORMAL;
    case Advice::kSequential:
      return MADV_SEQUENTIAL;
    case Advice::kRandom:
      return MADV_RANDOM;
    case Advice::kWillNeed:
      return MADV_WILLNEED;
    case Advice::kDontNeed:
      return MADV_DONTNEED;
  }
  return MADV_NORMAL;
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw_os_error(path, "cannot open for reading", errno);
  }
  FdCloser closer(fd);

  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    throw_os_error(path, "cannot stat", errno);
  }
  DQ_CHECK(S_ISREG(info.st_mode), path.string(), ": not a regular file");
  size_ = static_cast<size_t>(info.st_size);

  // mmap rejects a zero length, and an empty file has nothing to map.
  if (size_ == 0) {
    return;
  }
  void* address = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (address == MAP_FAILED) {
    throw_os_error(path, "cannot map the file into memory", errno);
  }
  data_ = static_cast<uint8_t*>(address);
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void MappedFile::advise(size_t offset, size_t length, Advice advice) const {
  if (data_ == nullptr || offset >= size_ || length == 0) {
    return;
  }
  length = std::min(length, size_ - offset);

  // madvise needs a page-aligned start, and the mapping itself starts on a page boundary.
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t aligned_offset = offset / page * page;
  ::madvise(data_ + aligned_offset, length + (offset - aligned_offset), to_madvise_flag(advice));
}

void MappedFile::release() noexcept {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
    data_ = nullptr;
  }
  size_ = 0;
}

}  // namespace dartquant::io
