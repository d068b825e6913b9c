// Interrupted quantize runs: SIGKILL during DartQuant calibration leaves no
// output folder, SIGTERM stops with the resume message, and running the same
// command again resumes and writes a folder byte for byte equal to an
// uninterrupted run's.
#include <csignal>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace dartquant {
namespace {

namespace fs = std::filesystem;
using testing::data_dir;
using testing::model_dir;
using testing::quoted;
using testing::run_cli;

std::string quantize_args(const fs::path& state, const fs::path& out) {
  return "quantize --model " + quoted(model_dir("stories260K")) + " --method dartquant --bits 4-4-4 --nsamples 16 " +
         "--seqlen 128 --threads 1 --data-dir " + quoted(data_dir()) + " --calib-state " + quoted(state) + " --out " +
         quoted(out);
}

/// Starts the CLI with `args` in the background, waits until its log shows
/// `marker`, sends `signal` and waits for it to end. Returns the log.
std::string interrupt_at(const std::string& args, const std::string& marker, int signal, const fs::path& work) {
  auto log = work / ("log-" + std::to_string(signal));
  auto script = work / "interrupt.sh";
  testing::write_file(script, std::string("'") + DARTQUANT_CLI + "' " + args + " 2>" + quoted(log) +
                                  " >/dev/null </dev/null &\npid=$!\nfor i in $(seq 1 6000); do\n  grep -q '" + marker +
                                  "' " + quoted(log) + " && break\n  sleep 0.05\ndone\nkill -" +
                                  std::to_string(signal) + " $pid\nwait $pid 2>/dev/null\nexit 0\n");
  EXPECT_EQ(std::system(("bash " + quoted(script)).c_str()), 0);
  return testing::read_file(log);
}

/// Whether the output folder is absent. Hidden staging folders
/// (".<name>.partial-<pid>") may remain beside it.
bool no_visible_output(const fs::path& out) { return !fs::exists(out); }

TEST(Interruption, KillThenResumeGivesIdenticalFolder) {
  auto work = testing::make_temp_dir("interrupt");

  auto straight = run_cli(quantize_args(work / "state-straight", work / "straight"));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;

  // SIGKILL after the second layer's R2 is saved: no output folder appears.
  auto args = quantize_args(work / "state", work / "resumed");
  auto killed_log = interrupt_at(args, "layer 1 R2", SIGKILL, work);
  ASSERT_NE(killed_log.find("layer 1 R2"), std::string::npos) << killed_log;
  EXPECT_TRUE(no_visible_output(work / "resumed"));

  // SIGTERM stops cleanly and prints how to resume.
  auto stopped_log = interrupt_at(args, "layer 2 R2", SIGTERM, work);
  EXPECT_NE(stopped_log.find("run the same command again to resume"), std::string::npos) << stopped_log;
  EXPECT_TRUE(no_visible_output(work / "resumed"));

  auto resumed = run_cli(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("layer 0 R2: taken from the calibration state"), std::string::npos) << resumed.err;
  testing::expect_same_files(work / "straight", work / "resumed");
  fs::remove_all(work);
}

}  // namespace
}  // namespace dartquant
