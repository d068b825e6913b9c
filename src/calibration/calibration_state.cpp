#include "calibration_state.h"

#include <spdlog/spdlog.h>

#include "dartquant/calibration/rotations_file.h"
#include "dartquant/core/error.h"
#include "dartquant/core/hash.h"

namespace dartquant::calibration {
namespace {

constexpr const char* kR2File = "r2.safetensors";
constexpr const char* kIdentityKey = "identity_sha256";

}  // namespace

CalibrationState::CalibrationState(std::filesystem::path dir, std::string identity, const model::ModelConfig& config)
    : dir_(std::move(dir)), identity_(sha256_hex(identity.data(), identity.size())), config_(config) {
  if (dir_.empty()) {
    return;
  }
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  DQ_CHECK(!error, "cannot create the calibration state folder ", dir_.string(), ": ", error.message(),
           "; choose a writable folder with --calib-state");
  auto file = dir_ / kR2File;
  if (!std::filesystem::exists(file)) {
    return;
  }
  try {
    auto metadata = rotations_metadata(file);
    auto stored = metadata.find(kIdentityKey);
    if (stored == metadata.end() || stored->second != identity_) {
      spdlog::warn("{}: calibration state of a different run (model, data or settings differ); starting over",
                   file.string());
      return;
    }
    r2_ = load_rotations(file, config_, /*partial=*/true).r2;
    spdlog::info("resuming calibration from {}: R2 of {} layer(s) already learned", dir_.string(), r2_.size());
  } catch (const Error& error) {
    spdlog::warn("ignoring unreadable calibration state ({}); starting over", error.what());
    r2_.clear();
  }
}

void CalibrationState::record_r2(int64_t layer, const at::Tensor& r2) {
  DQ_CHECK(layer == static_cast<int64_t>(r2_.size()), "R2 of layer ", layer, " recorded out of order");
  r2_.push_back(r2);
  if (dir_.empty()) {
    return;
  }
  LearnedRotations partial;
  partial.r2 = r2_;
  save_rotations(dir_ / kR2File, partial, config_, {{kIdentityKey, identity_}});
}

void CalibrationState::remove() {
  if (dir_.empty()) {
    return;
  }
  std::error_code error;
  std::filesystem::remove(dir_ / kR2File, error);
  std::filesystem::remove(dir_, error);  // only when empty: other files there are not ours
}

}  // namespace dartquant::calibration
