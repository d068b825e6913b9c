// A progress bar on stderr with rate and ETA, redrawn at most a few times per
// second. On a terminal it rewrites one line; otherwise it prints a line every
// few seconds so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dartquant {

class ProgressBar {
 public:
  /// `total` steps of work; `unit` names the rate numerator (e.g. "tok").
  ProgressBar(std::string label, int64_t total, std::string unit);
  ~ProgressBar();

  /// Marks `steps` more steps done, `units` more units processed (for the rate).
  void advance(int64_t steps, int64_t units);

  /// Prints the final state and a newline (idempotent).
  void finish();

  double elapsed_seconds() const;

 private:
  void draw(bool final);

  std::string label_;
  std::string unit_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t units_ = 0;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

/// Seconds elapsed since `start` on the steady clock.
double seconds_since(std::chrono::steady_clock::time_point start);

/// Formats seconds as "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

}  // namespace dartquant
