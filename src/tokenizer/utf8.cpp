#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {

std::optional<size_t> find_invalid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t pos = 0;
  while (pos < size) {
    const unsigned char lead = bytes[pos];
    if (lead < 0x80) {
      ++pos;
      continue;
    }

    // Ranges of the second byte per lead byte exclude overlong forms, surrogates
    // (ED A0..BF) and code points above U+10FFFF (F4 90..BF), as in the Unicode standard's
    // table of well-formed byte sequences.
    size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      low = lead == 0xE0 ? 0xA0 : 0x80;
      high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      low = lead == 0xF0 ? 0x90 : 0x80;
      high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return pos;
    }
    if (pos + length > size || bytes[pos + 1] < low || bytes[pos + 1] > high) {
      return pos;
    }
    for (size_t i = 2; i < length; ++i) {
      if (bytes[pos + i] < 0x80 || bytes[pos + i] > 0xBF) {
        return pos;
      }
    }
    pos += length;
  }
  return std::nullopt;
}

size_t utf8_char_count(std::string_view text) {
  size_t count = 0;
  for (const char byte : text) {
    // Every character has exactly one byte that is not a continuation byte (10xxxxxx).
    count += (static_cast<unsigned char>(byte) & 0xC0) != 0x80 ? 1 : 0;
  }
  return count;
}

char32_t decode_utf8(std::string_view text, size_t pos) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data()) + pos;
  const size_t length = utf8_length(bytes[0]);
  if (length == 1) {
    return bytes[0];
  }
  char32_t code_point = bytes[0] & (0xFF >> (length + 1));
  for (size_t i = 1; i < length; ++i) {
    code_point = (code_point << 6) | (bytes[i] & 0x3F);
  }
  return code_point;
}

void append_utf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

}  // namespace dartquant::tokenizer
