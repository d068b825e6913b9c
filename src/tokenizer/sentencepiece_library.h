// Finds and loads the dartquant_sentencepiece module (see sentencepiece_plugin_abi.h).
#pragma once

#include <filesystem>

#include "tokenizer/sentencepiece_plugin_abi.h"

namespace dartquant::tokenizer {

/// File name of the module that the dartquant_sentencepiece CMake target builds.
inline constexpr const char* kSentencePiecePluginName = "libdartquant_sentencepiece.so";

/// Environment variable that names the module by its full path.
inline constexpr const char* kSentencePiecePluginEnv = "DARTQUANT_SENTENCEPIECE_PLUGIN";

/// The functions of the loaded module. The module stays loaded until the process exits.
struct SentencePieceLibrary {
  std::filesystem::path path;  ///< file that dlopen loaded
  DqSpmLoadFn load = nullptr;
  DqSpmFreeFn free = nullptr;
  DqSpmEncodeFn encode = nullptr;
  DqSpmPieceCountFn piece_count = nullptr;
  DqSpmSpecialIdFn bos_id = nullptr;
  DqSpmSpecialIdFn eos_id = nullptr;
  DqSpmLastErrorFn last_error = nullptr;
};

/// Returns the module, loading it on the first call. The search order is:
/// $DARTQUANT_SENTENCEPIECE_PLUGIN when set (and then only that path), the folder of the
/// running executable (/proc/self/exe), and the build folder compiled in as
/// DARTQUANT_PLUGIN_DIR. Throws dartquant::Error naming every path tried when no module is
/// found, and the dlopen/dlsym message when one is found but cannot be loaded. A failure is
/// not remembered, so a later call searches again. Thread-safe.
const SentencePieceLibrary& sentencepiece_library();

}  // namespace dartquant::tokenizer
