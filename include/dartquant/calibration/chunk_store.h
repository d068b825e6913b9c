// Equal-shaped float32 activation chunks kept in memory up to a byte budget
// and spilled to an unlinked temporary file beyond it, so that R1's
// calibration set can exceed RAM.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <ATen/core/Tensor.h>

namespace dartquant::calibration {

class ChunkStore {
 public:
  /// Chunks of [rows, width] float32. Up to `memory_budget` bytes stay in
  /// memory (0: none). Later chunks go to a file created in `spill_dir` and
  /// unlinked at once, so it disappears with the process.
  ChunkStore(int64_t rows, int64_t width, int64_t memory_budget, std::filesystem::path spill_dir);
  ~ChunkStore();
  ChunkStore(const ChunkStore&) = delete;
  ChunkStore& operator=(const ChunkStore&) = delete;

  /// Appends a chunk [rows, width] (any floating dtype; stored as float32).
  void add(const at::Tensor& chunk);

  /// Chunk `index` as [rows, width] float32 on the CPU.
  at::Tensor get(int64_t index) const;

  int64_t size() const { return static_cast<int64_t>(locations_.size()); }
  int64_t rows() const { return rows_; }
  int64_t bytes_in_memory() const { return static_cast<int64_t>(in_memory_.size()) * chunk_bytes_; }
  int64_t bytes_on_disk() const { return spilled_ * chunk_bytes_; }

 private:
  struct Location {
    bool on_disk;
    int64_t slot;  ///< index into in_memory_, or chunk slot in the spill file
  };

  void open_spill_file();

  int64_t rows_;
  int64_t width_;
  int64_t chunk_bytes_;
  int64_t memory_budget_;
  std::filesystem::path spill_dir_;
  std::vector<at::Tensor> in_memory_;
  std::vector<Location> locations_;
  int spill_fd_ = -1;
  int64_t spilled_ = 0;
};

}  // namespace dartquant::calibration
