// dartquant: post-training quantization toolkit for LLMs.
//
// Exit codes: 0 success, 1 runtime failure, 2 usage error.
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include <spdlog/spdlog.h>

#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/core/logging.h"

namespace {

constexpr const char* kUsage =
    "usage: dartquant <command> [options]\n"
    "\n"
    "commands:\n"
    "  quantize   rotate and quantize a model (dartquant, quarot, gptq, rtn), optionally evaluating it\n"
    "  eval       evaluate a model (WikiText-2 and text-file perplexity, zero-shot tasks)\n"
    "  tokenize   print the token ids of a text as a JSON array\n"
    "  table      print the results table (Markdown or CSV) from eval results files\n"
    "  inspect    show what a model folder holds: method, bits, per-layer formats, size\n"
    "  reproduce  run the rows of the paper's table for one model (FP, rtn, quarot, dartquant)\n"
    "  compare    compare results with a reference table; exit 3 when a cell is worse than its tolerance\n"
    "  synth      write a random model of any architecture, shape and depth (for benchmarks)\n"
    "\n"
    "Run 'dartquant <command> --help' for the options of a command.\n"
    "Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 compare found a regression.\n";

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("dartquant %s\n", DARTQUANT_VERSION);
    return 0;
  }
  if (command == "quantize") {
    return dartquant::cli::quantize_command(argc - 1, argv + 1);
  }
  if (command == "eval") {
    return dartquant::cli::eval_command(argc - 1, argv + 1);
  }
  if (command == "table") {
    return dartquant::cli::table_command(argc - 1, argv + 1);
  }
  if (command == "reproduce") {
    return dartquant::cli::reproduce_command(argc - 1, argv + 1);
  }
  if (command == "compare") {
    return dartquant::cli::compare_command(argc - 1, argv + 1);
  }
  if (command == "synth") {
    return dartquant::cli::synth_command(argc - 1, argv + 1);
  }
  if (command == "inspect") {
    return dartquant::cli::inspect_command(argc - 1, argv + 1);
  }
  if (command == "tokenize") {
    return dartquant::cli::tokenize_command(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "dartquant: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Forward passes allocate and free tensors of tens of MiB per operation.
  // glibc serves those with mmap and unmaps them on free, so every operation
  // paid page faults on fresh zeroed pages. Keeping them in the heap avoids that.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  try {
    // Errors raised before a command applies --log-level still go to stderr.
    dartquant::configure_logging("info");
    return dispatch(argc, argv);
  } catch (const dartquant::UsageError& error) {
    spdlog::error("{}", error.what());
    return 2;
  } catch (const std::exception& error) {
    spdlog::error("{}", error.what());
    return 1;
  }
}
