#include "dartquant/core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace dartquant {
namespace {

constexpr double kTerminalRedrawSeconds = 0.2;
constexpr double kLogRedrawSeconds = 10.0;
constexpr int kBarWidth = 28;

}  // namespace

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string format_duration(double seconds) {
  char buffer[32];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof(buffer), "%.1fs", seconds);
  } else if (seconds < 3600) {
    int whole = static_cast<int>(seconds);
    std::snprintf(buffer, sizeof(buffer), "%dm%02ds", whole / 60, whole % 60);
  } else {
    int minutes = static_cast<int>(seconds / 60);
    std::snprintf(buffer, sizeof(buffer), "%dh%02dm", minutes / 60, minutes % 60);
  }
  return buffer;
}

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::advance(int64_t steps, int64_t units) {
  done_ += steps;
  units_ += units;
  auto now = std::chrono::steady_clock::now();
  double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (since_draw >= (terminal_ ? kTerminalRedrawSeconds : kLogRedrawSeconds)) {
    last_draw_ = now;
    draw(false);
  }
}

void ProgressBar::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  draw(true);
}

void ProgressBar::draw(bool final) {
  double elapsed = elapsed_seconds();
  double fraction = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  int filled = static_cast<int>(std::round(fraction * kBarWidth));
  std::string bar(static_cast<size_t>(filled), '=');
  bar.resize(kBarWidth, ' ');

  double rate = elapsed > 0 ? static_cast<double>(units_) / elapsed : 0.0;
  std::string timing = final ? "in " + format_duration(elapsed)
                     : done_ > 0 ? "ETA " + format_duration(elapsed / static_cast<double>(done_) *
                                                            static_cast<double>(total_ - done_))
                                 : "ETA ?";
  // Slow steps (layers) read better as seconds per unit than as "0 layer/s".
  char speed[64];
  if (rate >= 1.0 || units_ == 0) {
    std::snprintf(speed, sizeof(speed), "%.0f %s/s", rate, unit_.c_str());
  } else {
    std::snprintf(speed, sizeof(speed), "%.1f s/%s", elapsed / static_cast<double>(units_), unit_.c_str());
  }
  std::fprintf(stderr, "%s%s [%s] %lld/%lld %s %s%s", terminal_ ? "\r" : "", label_.c_str(), bar.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), timing.c_str(), speed,
               terminal_ && !final ? "\033[K" : "\n");
  std::fflush(stderr);
}

}  // namespace dartquant
