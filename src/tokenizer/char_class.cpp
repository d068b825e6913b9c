#include "tokenizer/char_class.h"

#include <string>

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

bool matches_char(const Regex& regex, char32_t c) {
  std::string encoded;
  append_utf8(encoded, c);
  return regex.matches_at(encoded, 0);
}

}  // namespace

bool is_unicode_whitespace(char32_t c) {
  // The 25 code points of the White_Space property (Unicode PropList.txt, unchanged since 6.3).
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_python_space(char32_t c) { return is_unicode_whitespace(c) || (c >= 0x1C && c <= 0x1F); }

bool is_numeric(char32_t c) {
  if (c < 0x80) {
    return c >= '0' && c <= '9';
  }
  static const Regex numeric("\\p{N}", "Unicode class N");
  return matches_char(numeric, c);
}

bool is_word_char(char32_t c) {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  static const Regex word("[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]", "regex-crate \\w");
  return matches_char(word, c);
}

}  // namespace dartquant::tokenizer
