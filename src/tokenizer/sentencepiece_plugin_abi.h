// C interface between dartquant_lib and the dartquant_sentencepiece module.
//
// Debian's libsentencepiece carries its own protobuf (3.14) while libtorch links the system
// protobuf (3.21), and a binary that links both aborts at start-up. So only the module links
// libsentencepiece, and dartquant_lib loads it with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) and finds
// these functions with dlsym. Only C types cross the boundary, and no C++ exception leaves the
// module.
#pragma once

#include <stddef.h>
#include <stdint.h>

/// Bumped whenever a signature below changes. The loader rejects a module of another version.
#define DQ_SPM_ABI_VERSION 1

extern "C" {

/// Version of this interface that the module implements (DQ_SPM_ABI_VERSION when it was built).
typedef int32_t (*DqSpmAbiVersionFn)(void);

/// Parses a serialized SentencePiece ModelProto (the bytes of a tokenizer.model file). Returns
/// an opaque processor, or NULL with the reason in dq_spm_last_error().
typedef void* (*DqSpmLoadFn)(const char* bytes, size_t size);

/// Releases a processor returned by dq_spm_load. NULL is ignored.
typedef void (*DqSpmFreeFn)(void* processor);

/// Encodes `size` bytes of text as ids (SentencePiece EncodeAsIds). Writes at most `capacity` ids
/// to `ids` and returns how many the text has, so a return value above `capacity` means: call
/// again with a larger buffer. Returns -1 on failure, with the reason in dq_spm_last_error().
/// Safe to call from several threads on one processor.
typedef int64_t (*DqSpmEncodeFn)(const void* processor, const char* text, size_t size, int32_t* ids,
                                 size_t capacity);

/// Number of pieces (ids) of the model.
typedef int32_t (*DqSpmPieceCountFn)(const void* processor);

/// Id of BOS or EOS in the model, -1 when the model has none.
typedef int32_t (*DqSpmSpecialIdFn)(const void* processor);

/// Message of the last failure on the calling thread, valid until the thread's next call.
typedef const char* (*DqSpmLastErrorFn)(void);

}  // extern "C"

/// Names that dlsym looks up, one per function type above.
#define DQ_SPM_SYMBOL_ABI_VERSION "dq_spm_abi_version"
#define DQ_SPM_SYMBOL_LOAD "dq_spm_load"
#define DQ_SPM_SYMBOL_FREE "dq_spm_free"
#define DQ_SPM_SYMBOL_ENCODE "dq_spm_encode"
#define DQ_SPM_SYMBOL_PIECE_COUNT "dq_spm_piece_count"
#define DQ_SPM_SYMBOL_BOS_ID "dq_spm_bos_id"
#define DQ_SPM_SYMBOL_EOS_ID "dq_spm_eos_id"
#define DQ_SPM_SYMBOL_LAST_ERROR "dq_spm_last_error"
