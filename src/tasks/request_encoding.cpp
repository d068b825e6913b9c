#include "dartquant/tasks/request_encoding.h"

#include "dartquant/core/error.h"

namespace dartquant::tasks {
namespace {

int64_t bos_or_eos(const tokenizer::Tokenizer& tokenizer) {
  if (auto bos = tokenizer.bos_id()) {
    return *bos;
  }
  if (auto eos = tokenizer.eos_id()) {
    return *eos;
  }
  throw Error("the tokenizer has neither a BOS nor an EOS token to stand for an empty context");
}

}  // namespace

EncodedRequest encode_request(const tokenizer::Tokenizer& tokenizer, const Request& request, bool add_bos) {
  std::optional<int64_t> bos;
  if (add_bos) {
    bos = tokenizer.bos_id();
    DQ_CHECK(bos.has_value(), "--add-bos: the tokenizer (", tokenizer.source_file().string(), ") has no BOS token");
  }

  EncodedRequest encoded;
  if (request.context.empty()) {
    // lm-eval's loglikelihood(): an empty context is replaced by its prefix token (BOS, or
    // EOS without one), and the continuation is encoded on its own with the same special
    // tokens as any request. So with add_bos the continuation starts with a BOS that is scored.
    encoded.context = {bos_or_eos(tokenizer)};
    if (bos) {
      encoded.continuation.push_back(*bos);
    }
    auto tokens = tokenizer.encode(request.continuation);
    encoded.continuation.insert(encoded.continuation.end(), tokens.begin(), tokens.end());
    return encoded;
  }

  auto pair = tokenizer::encode_pair(tokenizer, request.context, request.continuation);
  encoded.context = std::move(pair.context);
  encoded.continuation = std::move(pair.continuation);
  if (bos) {
    encoded.context.insert(encoded.context.begin(), *bos);
  }
  if (encoded.context.empty()) {
    // NOTE: a context of only whitespace encodes to no tokens once the whitespace moves to
    // the continuation; lm-eval 0.4.3 stops on an assertion there. The empty-context prefix
    // token keeps such a request scoreable instead.
    encoded.context = {bos_or_eos(tokenizer)};
  }
  return encoded;
}

}  // namespace dartquant::tasks
