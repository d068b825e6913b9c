#include "tokenizer/sentencepiece_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"

namespace dartquant::tokenizer {
namespace {

namespace fs = std::filesystem;

struct Candidate {
  fs::path path;
  std::string origin;  // where the path came from, for error messages
};

std::string list_candidates(const std::vector<Candidate>& candidates) {
  std::string text;
  for (const auto& candidate : candidates) {
    text += "\n  " + candidate.path.string() + " (" + candidate.origin + ")";
  }
  return text;
}

std::vector<Candidate> search_path() {
  std::vector<Candidate> candidates;

  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back({executable.parent_path() / kSentencePiecePluginName, "folder of the executable"});
  }

#ifdef DARTQUANT_PLUGIN_DIR
  const fs::path build_path = fs::path(DARTQUANT_PLUGIN_DIR) / kSentencePiecePluginName;
  if (candidates.empty() || candidates.front().path != build_path) {
    candidates.push_back({build_path, "build folder"});
  }
#endif
  return candidates;
}

template <typename Function>
void bind_symbol(void* handle, const fs::path& path, const char* symbol, Function& function) {
  function = reinterpret_cast<Function>(dlsym(handle, symbol));
  DQ_CHECK(function != nullptr, path.string(), ": symbol ", symbol,
           " is missing: the module is not a dartquant_sentencepiece build; rebuild the "
           "dartquant_sentencepiece target");
}

std::unique_ptr<SentencePieceLibrary> open_library(const fs::path& path) {
  // RTLD_DEEPBIND: libsentencepiece must resolve protobuf symbols to its own copy, not to the
  // system protobuf that libtorch has already put into the global scope.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == nullptr) {
    const char* message = dlerror();
    throw Error(str(path.string(), ": cannot load the SentencePiece module: ",
                    message != nullptr ? message : "unknown dlopen error",
                    ". Check that the file is a build of the dartquant_sentencepiece target and that "
                    "libsentencepiece0 is installed"));
  }

  try {
    DqSpmAbiVersionFn abi_version = nullptr;
    bind_symbol(handle, path, DQ_SPM_SYMBOL_ABI_VERSION, abi_version);
    const int32_t version = abi_version();
    DQ_CHECK(version == DQ_SPM_ABI_VERSION, path.string(), ": module interface version ", version,
             " does not match this build's version ", DQ_SPM_ABI_VERSION,
             "; rebuild the dartquant_sentencepiece target from the same sources");

    auto library = std::make_unique<SentencePieceLibrary>();
    library->path = path;
    bind_symbol(handle, path, DQ_SPM_SYMBOL_LOAD, library->load);
    bind_symbol(handle, path, DQ_SPM_SYMBOL_FREE, library->free);
    bind_symbol(handle, path, DQ_SPM_SYMBOL_ENCODE, library->encode);
    bind_symbol(handle, path, DQ_SPM_SYMBOL_PIECE_COUNT, library->piece_count);
    bind_symbol(handle, path, DQ_SPM_SYMBOL_BOS_ID, library->bos_id);
    bind_symbol(handle, path, DQ_SPM_SYMBOL_EOS_ID, library->eos_id);
    bind_symbol(handle, path, DQ_SPM_SYMBOL_LAST_ERROR, library->last_error);
    // A loaded module is never closed: processors it created live as long as their
    // tokenizers, and nothing tracks those.
    return library;
  } catch (...) {
    dlclose(handle);
    throw;
  }
}

std::unique_ptr<SentencePieceLibrary> find_and_open() {
  // An explicit path must be right: falling back to another build would hide the mistake.
  const char* override_path = std::getenv(kSentencePiecePluginEnv);
  if (override_path != nullptr && *override_path != '\0') {
    const fs::path path(override_path);
    DQ_CHECK(fs::is_regular_file(path), kSentencePiecePluginEnv, "=", path.string(),
             ": file not found. Set it to the full path of ", kSentencePiecePluginName,
             " or unset it to search beside the executable and in the build folder");
    return open_library(path);
  }

  const auto candidates = search_path();
  for (const auto& candidate : candidates) {
    if (fs::is_regular_file(candidate.path)) {
      return open_library(candidate.path);
    }
  }
  throw Error(str("SentencePiece module ", kSentencePiecePluginName, " not found (", kSentencePiecePluginEnv,
                  " is not set). Tried:", list_candidates(candidates), "\nBuild the dartquant_sentencepiece target (ninja ",
                  "dartquant_sentencepiece), copy ", kSentencePiecePluginName,
                  " beside the dartquant executable, or set ", kSentencePiecePluginEnv,
                  " to its full path"));
}

}  // namespace

const SentencePieceLibrary& sentencepiece_library() {
  static std::mutex mutex;
  static std::unique_ptr<SentencePieceLibrary> library;

  std::lock_guard<std::mutex> lock(mutex);
  if (library == nullptr) {
    library = find_and_open();
    spdlog::debug("loaded the SentencePiece module {}", library->path.string());
  }
  return *library;
}

}  // namespace dartquant::tokenizer
