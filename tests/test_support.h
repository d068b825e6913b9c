// Shared helpers for the test suite: where the shared data lives and how to run
// the CLI as a subprocess.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>
#include <gtest/gtest.h>

namespace dartquant::testing {

/// Root of the shared data set: $DARTQUANT_DATA, else ../shared/data beside the
/// repository. Missing data is a test failure, never a skip, so CI cannot pass
/// without the real inputs.
inline std::filesystem::path data_dir() {
  const char* env = std::getenv("DARTQUANT_DATA");
  std::filesystem::path dir = env != nullptr && *env != '\0'
                                  ? std::filesystem::path(env)
                                  : std::filesystem::path(DARTQUANT_SOURCE_DIR) / ".." / "shared" / "data";
  if (!std::filesystem::exists(dir / "MANIFEST.md")) {
    ADD_FAILURE() << "shared data not found at " << dir
                  << ": set DARTQUANT_DATA to the folder that contains MANIFEST.md";
  }
  return dir;
}

inline std::filesystem::path model_dir(const std::string& name) { return data_dir() / "models" / name; }

/// `count` seeded windows of `length` tokens from WikiText-2's validation text,
/// tokenized with `model`'s tokenizer: calibration or held-out evaluation input.
at::Tensor wiki_windows(const std::string& model, int64_t count, int64_t length, uint64_t seed);

/// Result of running the dartquant CLI: exit code and captured streams.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs the built dartquant binary with `args` (already shell-quoted) and
/// captures stdout and stderr through temporary files.
CommandResult run_cli(const std::string& args);

/// Single-quotes a path for the shell command line of run_cli.
inline std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

/// A fresh empty directory under the system temp folder, removed by the caller.
std::filesystem::path make_temp_dir(const std::string& prefix);

/// Writes `bytes` to `path` (binary, truncating).
void write_file(const std::filesystem::path& path, const std::string& bytes);

/// Reads a whole file as bytes.
std::string read_file(const std::filesystem::path& path);

/// Checks that two folders contain the same file names with the same bytes.
void expect_same_files(const std::filesystem::path& expected, const std::filesystem::path& actual);

}  // namespace dartquant::testing
