// UTF-8 validation, decoding and encoding.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dartquant::tokenizer {

/// Byte offset of the first invalid UTF-8 sequence in `text` (overlong forms, surrogates and
/// code points above U+10FFFF are invalid), or nullopt when all of it is valid.
std::optional<size_t> find_invalid_utf8(std::string_view text);

/// Length in bytes of the character that starts with `lead` in valid UTF-8.
inline size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) {
    return 1;
  }
  if (lead < 0xE0) {
    return 2;
  }
  return lead < 0xF0 ? 3 : 4;
}

/// Number of characters in valid UTF-8 `text`.
size_t utf8_char_count(std::string_view text);

/// Decodes the character at byte `pos` of valid UTF-8 `text`.
char32_t decode_utf8(std::string_view text, size_t pos);

/// Appends the UTF-8 encoding of `code_point`.
void append_utf8(std::string& out, char32_t code_point);

}  // namespace dartquant::tokenizer
