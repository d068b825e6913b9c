#include "dartquant/calibration/chunk_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <ATen/ATen.h>

#include "dartquant/core/error.h"

namespace dartquant::calibration {

ChunkStore::ChunkStore(int64_t rows, int64_t width, int64_t memory_budget, std::filesystem::path spill_dir)
    : rows_(rows),
      width_(width),
      chunk_bytes_(rows * width * static_cast<int64_t>(sizeof(float))),
      memory_budget_(memory_budget),
      spill_dir_(std::move(spill_dir)) {}

ChunkStore::~ChunkStore() {
  if (spill_fd_ >= 0) {
    close(spill_fd_);
  }
}

void ChunkStore::open_spill_file() {
  std::error_code error;
  std::filesystem::create_directories(spill_dir_, error);
  DQ_CHECK(!error, "cannot create the spill folder ", spill_dir_.string(), ": ", error.message(),
           "; choose a writable folder with --calib-state or raise --max-memory");
  std::string path = (spill_dir_ / "r1-chunks.XXXXXX").string();
  spill_fd_ = mkstemp(path.data());
  DQ_CHECK(spill_fd_ >= 0, "cannot create a spill file in ", spill_dir_.string(), ": ", std::strerror(errno),
           "; free disk space there or raise --max-memory");
  // Unlinked at once: the data lives until the descriptor closes, and a crash leaves nothing behind.
  unlink(path.c_str());
}

void ChunkStore::add(const at::Tensor& chunk) {
  DQ_CHECK(chunk.dim() == 2 && chunk.size(0) == rows_ && chunk.size(1) == width_, "chunk of shape ", chunk.sizes(),
           " does not fit a store of [", rows_, ", ", width_, "]");
  auto data = chunk.detach().to(at::kCPU, at::kFloat).contiguous();
  if (bytes_in_memory() + chunk_bytes_ <= memory_budget_) {
    locations_.push_back({false, static_cast<int64_t>(in_memory_.size())});
    in_memory_.push_back(data.clone());
    return;
  }

  if (spill_fd_ < 0) {
    open_spill_file();
  }
  const char* bytes = static_cast<const char*>(data.data_ptr());
  int64_t offset = spilled_ * chunk_bytes_;
  int64_t written = 0;
  while (written < chunk_bytes_) {
    ssize_t n = pwrite(spill_fd_, bytes + written, static_cast<size_t>(chunk_bytes_ - written), offset + written);
    DQ_CHECK(n > 0, "writing calibration chunks to ", spill_dir_.string(), " failed: ", std::strerror(errno),
             "; free disk space there or raise --max-memory");
    written += n;
  }
  locations_.push_back({true, spilled_});
  ++spilled_;
}

at::Tensor ChunkStore::get(int64_t index) const {
  DQ_CHECK(index >= 0 && index < size(), "chunk ", index, " out of range (", size(), " stored)");
  const auto& location = locations_[static_cast<size_t>(index)];
  if (!location.on_disk) {
    return in_memory_[static_cast<size_t>(location.slot)];
  }
  auto chunk = at::empty({rows_, width_}, at::TensorOptions().dtype(at::kFloat));
  char* bytes = static_cast<char*>(chunk.data_ptr());
  int64_t offset = location.slot * chunk_bytes_;
  int64_t done = 0;
  while (done < chunk_bytes_) {
    ssize_t n = pread(spill_fd_, bytes + done, static_cast<size_t>(chunk_bytes_ - done), offset + done);
    DQ_CHECK(n > 0, "reading calibration chunks back from the spill file in ", spill_dir_.string(),
             " failed: ", std::strerror(errno));
    done += n;
  }
  return chunk;
}

}  // namespace dartquant::calibration
