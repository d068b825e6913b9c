#include "test_support.h"

#include <algorithm>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include <ATen/ATen.h>

#include "dartquant/calibration/calibration_data.h"
#include "dartquant/tokenizer/tokenizer.h"

namespace dartquant::testing {

at::Tensor wiki_windows(const std::string& model, int64_t count, int64_t length, uint64_t seed) {
  auto tokenizer = tokenizer::load_tokenizer(model_dir(model));
  auto stream = calibration::calibration_stream(*tokenizer, data_dir() / "wikitext-2-raw" / "wiki.valid.raw");
  return calibration::sample_windows(stream, count, length, seed);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::random_device device;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto dir = std::filesystem::temp_directory_path() /
               (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(device()));
    if (std::filesystem::create_directory(dir)) {
      return dir;
    }
  }
  throw std::runtime_error("cannot create a temporary directory for " + prefix);
}

CommandResult run_cli(const std::string& args) {
  auto dir = make_temp_dir("dq-cli");
  auto out_path = dir / "stdout";
  auto err_path = dir / "stderr";
  std::string command = std::string("'") + DARTQUANT_CLI + "' " + args + " >'" + out_path.string() + "' 2>'" +
                        err_path.string() + "' </dev/null";
  int status = std::system(command.c_str());

  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  std::filesystem::remove_all(dir);
  return result;
}

void expect_same_files(const std::filesystem::path& expected, const std::filesystem::path& actual) {
  std::vector<std::string> expected_names;
  for (const auto& entry : std::filesystem::directory_iterator(expected)) {
    expected_names.push_back(entry.path().filename().string());
  }
  std::vector<std::string> actual_names;
  for (const auto& entry : std::filesystem::directory_iterator(actual)) {
    actual_names.push_back(entry.path().filename().string());
  }
  std::sort(expected_names.begin(), expected_names.end());
  std::sort(actual_names.begin(), actual_names.end());
  EXPECT_EQ(expected_names, actual_names);

  for (const auto& name : expected_names) {
    if (std::filesystem::exists(actual / name)) {
      EXPECT_TRUE(read_file(expected / name) == read_file(actual / name)) << name << " differs";
    }
  }
}

}  // namespace dartquant::testing
