// Token ids of a loglikelihood request, split at the context/continuation boundary as
// lm-eval 0.4.3's Hugging Face backend splits them.
#pragma once

#include <cstdint>
#include <vector>

#include "dartquant/tasks/task.h"
#include "dartquant/tokenizer/tokenizer.h"

namespace dartquant::tasks {

struct EncodedRequest {
  std::vector<int64_t> context;       ///< never empty: an empty context becomes [BOS] (or [EOS])
  std::vector<int64_t> continuation;  ///< the scored tokens; empty only for an unscoreable request
};

/// Encodes a request without special tokens, or with BOS in front when `add_bos` is set.
/// A non-empty context goes through tokenizer::encode_pair (trailing whitespace moves to the
/// continuation and the whole string is encoded once). An empty context becomes the BOS id
/// (EOS when the tokenizer has no BOS) and the continuation is encoded alone. Throws when
/// `add_bos` is set or the context is empty and the tokenizer has neither token.
EncodedRequest encode_request(const tokenizer::Tokenizer& tokenizer, const Request& request, bool add_bos);

}  // namespace dartquant::tasks
