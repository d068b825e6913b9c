// The dartquant_sentencepiece module: libsentencepiece behind the C interface of
// sentencepiece_plugin_abi.h. dartquant_lib loads it with dlopen, so that libsentencepiece's
// protobuf never meets libtorch's protobuf in one symbol scope.
#include <sentencepiece_processor.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "../tokenizer/sentencepiece_plugin_abi.h"

#define DQ_SPM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

thread_local std::string last_error;

void set_error(std::string message) { last_error = std::move(message); }

const sentencepiece::SentencePieceProcessor* as_processor(const void* processor) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(processor);
}

}  // namespace

DQ_SPM_EXPORT int32_t dq_spm_abi_version(void) { return DQ_SPM_ABI_VERSION; }

DQ_SPM_EXPORT void* dq_spm_load(const char* bytes, size_t size) {
  try {
    auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto status = processor->LoadFromSerializedProto(absl::string_view(bytes, size));
    if (!status.ok()) {
      set_error(status.ToString());
      return nullptr;
    }
    return processor.release();
  } catch (const std::exception& e) {
    set_error(e.what());
    return nullptr;
  }
}

DQ_SPM_EXPORT void dq_spm_free(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

DQ_SPM_EXPORT int64_t dq_spm_encode(const void* processor, const char* text, size_t size, int32_t* ids,
                                    size_t capacity) {
  try {
    std::vector<int> pieces;
    const auto status = as_processor(processor)->Encode(absl::string_view(text, size), &pieces);
    if (!status.ok()) {
      set_error(status.ToString());
      return -1;
    }
    std::copy_n(pieces.begin(), std::min(pieces.size(), capacity), ids);
    return static_cast<int64_t>(pieces.size());
  } catch (const std::exception& e) {
    set_error(e.what());
    return -1;
  }
}

DQ_SPM_EXPORT int32_t dq_spm_piece_count(const void* processor) { return as_processor(processor)->GetPieceSize(); }

DQ_SPM_EXPORT int32_t dq_spm_bos_id(const void* processor) { return as_processor(processor)->bos_id(); }

DQ_SPM_EXPORT int32_t dq_spm_eos_id(const void* processor) { return as_processor(processor)->eos_id(); }

DQ_SPM_EXPORT const char* dq_spm_last_error(void) { return last_error.c_str(); }
