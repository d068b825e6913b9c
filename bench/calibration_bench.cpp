// Times dartquant's R1/R2 rotation training (calibration::train_rotation) on a fixed
// activations file, for comparison with the plain PyTorch loop of
// scripts/reference/calibration_reference.py on the same file.
//
// The file is written by `calibration_reference.py collect`: tensors r1 [chunks, tokens,
// hidden] and r2 [chunks, tokens, heads·head_dim], their starts r1_start / r2_start
// [groups, n, n], and metadata r1_shape / r2_shape = [groups, rep, n]. Prints one JSON
// object on stdout: the optimization seconds, optimizer steps and per-epoch mean Whip loss.
//
// Usage: calibration_bench FILE r1|r2 [epochs batch accumulation lr threads seed]
//        (defaults 10 64 1 0.002 1 0)
#include <cstdio>
#include <exception>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "dartquant/calibration/rotation_trainer.h"
#include "dartquant/io/safetensors_file.h"

namespace {

using dartquant::calibration::OptimizerSettings;
using dartquant::calibration::RotationShape;

RotationShape read_shape(const dartquant::io::SafetensorsFile& file, const std::string& rotation) {
  auto key = rotation + "_shape";
  auto found = file.metadata().find(key);
  if (found == file.metadata().end()) {
    throw std::runtime_error(file.path().string() + ": metadata field " + key +
                             " not found; write the file with calibration_reference.py collect");
  }
  auto values = nlohmann::json::parse(found->second);
  return RotationShape{values.at(0).get<int64_t>(), values.at(1).get<int64_t>(), values.at(2).get<int64_t>()};
}

int run(int argc, char** argv) {
  if (argc < 3 || (std::string(argv[2]) != "r1" && std::string(argv[2]) != "r2")) {
    std::fprintf(stderr, "usage: %s FILE r1|r2 [epochs batch accumulation lr threads seed]\n", argv[0]);
    return 2;
  }
  std::string rotation = argv[2];
  auto argument = [&](int index, const char* fallback) { return std::string(argc > index ? argv[index] : fallback); };
  OptimizerSettings settings;
  settings.epochs = std::stoll(argument(3, "10"));
  settings.batch = std::stoll(argument(4, "64"));
  settings.accumulation = std::stoll(argument(5, "1"));
  settings.learning_rate = std::stod(argument(6, "0.002"));
  int threads = std::stoi(argument(7, "1"));
  uint64_t seed = std::stoull(argument(8, "0"));
  at::set_num_threads(threads);

  auto file = dartquant::io::SafetensorsFile::open(argv[1]);
  auto chunks = file->load(rotation);
  auto start = file->load(rotation + "_start");
  auto shape = read_shape(*file, rotation);
  dartquant::calibration::ChunkSource source{chunks.size(0), [&chunks](int64_t i) { return chunks[i]; }};

  auto result = dartquant::calibration::train_rotation(start, shape, source, settings, seed);
  int64_t batches = (source.count + settings.batch - 1) / settings.batch;
  int64_t steps_per_epoch = (batches + settings.accumulation - 1) / settings.accumulation;
  nlohmann::json report = {{"rotation", rotation},
                           {"chunks", source.count},
                           {"tokens_per_chunk", chunks.size(1)},
                           {"shape", {shape.groups, shape.rep, shape.n}},
                           {"epochs", settings.epochs},
                           {"steps", steps_per_epoch * settings.epochs},
                           {"threads", at::get_num_threads()},
                           {"seconds", result.seconds},
                           {"epoch_loss", result.epoch_loss}};
  std::printf("%s\n", report.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "calibration_bench: %s\n", error.what());
    return 1;
  }
}
