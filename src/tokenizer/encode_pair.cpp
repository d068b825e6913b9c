// lm-eval's split of a request into context and continuation tokens.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "dartquant/tokenizer/tokenizer.h"
#include "tokenizer/char_class.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

// Byte length of the whitespace at the end of `text` as Python's str.rstrip() removes it.
// Invalid UTF-8 ends the scan, so bytes that are not a character are never moved.
size_t trailing_space_bytes(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 && end - start < 4) {
      --start;
    }
    const std::string_view last(text.data() + start, end - start);
    if (find_invalid_utf8(last).has_value() || !is_python_space(decode_utf8(last, 0))) {
      break;
    }
    end = start;
  }
  return text.size() - end;
}

}  // namespace

EncodedPair encode_pair(const Tokenizer& tok, const std::string& context, const std::string& continuation) {
  // lm-eval 0.4.x HFLM._encode_pair: trailing whitespace of the context moves to the
  // continuation, so a " word" continuation is not split off a space-ending context.
  const size_t spaces = trailing_space_bytes(context);
  const std::string trimmed_context = context.substr(0, context.size() - spaces);
  const std::string moved_continuation = context.substr(context.size() - spaces) + continuation;

  // The whole string is encoded at once, so merges across the boundary resolve as in the full
  // text. The continuation is what follows as many tokens as the context has alone.
  const auto whole = tok.encode(trimmed_context + moved_continuation);
  EncodedPair pair;
  pair.context = tok.encode(trimmed_context);
  const size_t context_length = std::min(pair.context.size(), whole.size());
  pair.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(context_length), whole.end());
  return pair;
}

}  // namespace dartquant::tokenizer
