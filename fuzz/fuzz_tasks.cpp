// Fuzz target: the zero-shot task loaders (src/tasks/: JSON Lines rows, label files, MMLU CSV).
//
// Input layout: the first byte selects the loader (byte % 10, see kTaskFiles) and, for MMLU, the
// number of few-shot examples (byte / 10 % 6). The rest is split at its first 0x00 byte: the
// part before is the main data file, the part after (if any) the second file, which is the labels
// file or, for MMLU, the dev split. Each input is written into a fresh <scratch>/tasks/ tree.
// Rejection must raise dartquant::Error.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "dartquant/tasks/loaders.h"
#include "fuzz_support.h"

namespace {

namespace fs = std::filesystem;
using dartquant::tasks::LoadOptions;

enum class Loader { kArcEasy, kArcChallenge, kHellaswag, kLambada, kOpenbookqa, kPiqa, kSocialIqa, kWinogrande, kMmlu };

/// The loader of one selector byte and the paths of its two files, relative to <root>/tasks/.
struct TaskFiles {
  Loader loader;
  const char* main_file;
  const char* second_file;  ///< nullptr when the loader reads one file only
};

// abstract_algebra is one of the 57 subjects that load_mmlu accepts.
constexpr std::array<TaskFiles, 10> kTaskFiles = {{
    {Loader::kArcEasy, "arc_easy/test.jsonl", nullptr},
    {Loader::kArcChallenge, "arc_challenge/test.jsonl", nullptr},
    {Loader::kHellaswag, "hellaswag/validation.jsonl", nullptr},
    {Loader::kLambada, "lambada_openai/lambada_test.jsonl", nullptr},
    {Loader::kOpenbookqa, "openbookqa/test.jsonl", nullptr},
    {Loader::kPiqa, "piqa/valid.jsonl", "piqa/valid-labels.lst"},
    {Loader::kSocialIqa, "social_iqa/dev.jsonl", "social_iqa/dev-labels.lst"},
    {Loader::kWinogrande, "winogrande/dev.jsonl", "winogrande/dev-labels.lst"},
    {Loader::kMmlu, "mmlu/test/abstract_algebra_test.csv", "mmlu/dev/abstract_algebra_dev.csv"},
    {Loader::kMmlu, "mmlu/test/abstract_algebra_test.jsonl", "mmlu/dev/abstract_algebra_dev.jsonl"},
}};

void load(Loader loader, const LoadOptions& options) {
  using namespace dartquant::tasks;
  switch (loader) {
    case Loader::kArcEasy:
      load_arc_easy(options);
      break;
    case Loader::kArcChallenge:
      load_arc_challenge(options);
      break;
    case Loader::kHellaswag:
      load_hellaswag(options);
      break;
    case Loader::kLambada:
      load_lambada_openai(options);
      break;
    case Loader::kOpenbookqa:
      load_openbookqa(options);
      break;
    case Loader::kPiqa:
      load_piqa(options);
      break;
    case Loader::kSocialIqa:
      load_social_iqa(options);
      break;
    case Loader::kWinogrande:
      load_winogrande(options);
      break;
    case Loader::kMmlu:
      load_mmlu(options);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dartquant;
  if (size == 0) {
    return 0;
  }
  const TaskFiles& files = kTaskFiles[data[0] % kTaskFiles.size()];
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  const size_t split = rest.find('\0');

  const fs::path root = fuzz::scratch_dir();
  fs::remove_all(root / "tasks");
  fuzz::write_file(root / "tasks" / files.main_file, rest.substr(0, split));
  if (files.second_file != nullptr && split != std::string_view::npos) {
    fuzz::write_file(root / "tasks" / files.second_file, rest.substr(split + 1));
  }

  LoadOptions options;
  options.root = root;
  options.num_fewshot = files.loader == Loader::kMmlu ? data[0] / 10 % 6 : 0;
  try {
    load(files.loader, options);
  } catch (const Error&) {
    // The documented rejection of an invalid task file.
  }
  return 0;
}
