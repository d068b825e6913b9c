#include "dartquant/tasks/text.h"

#include <cstddef>
#include <optional>

namespace dartquant::tasks {
namespace {

/// A decoded character and the byte length of its UTF-8 form.
struct CodePoint {
  char32_t value = 0;
  size_t length = 0;
};

/// Decodes the character at `pos`; nullopt for an invalid or truncated sequence.
std::optional<CodePoint> decode_at(const std::string& text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  if (lead < 0x80) {
    return CodePoint{lead, 1};
  }

  size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07;
    minimum = 0x10000;
  } else {
    return std::nullopt;
  }
  if (pos + length > text.size()) {
    return std::nullopt;
  }
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) {
      return std::nullopt;
    }
    value = (value << 6) | (byte(pos + i) & 0x3F);
  }
  bool surrogate = value >= 0xD800 && value <= 0xDFFF;
  if (value < minimum || value > 0x10FFFF || surrogate) {
    return std::nullopt;
  }
  return CodePoint{value, length};
}

/// Python's str.isspace(): Unicode category Zs or bidirectional class WS, B or S.
bool is_python_space(char32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) {
    return true;
  }
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::string replace_all(const std::string& text, const std::string& from, const std::string& to) {
  std::string result;
  size_t pos = 0;
  while (true) {
    size_t found = text.find(from, pos);
    if (found == std::string::npos) {
      result.append(text, pos, std::string::npos);
      return result;
    }
    result.append(text, pos, found - pos);
    result += to;
    pos = found + from.size();
  }
}

/// Python's re.sub(r"\[.*?\]", "", text): "." does not match a newline, so a "[" whose
/// next "]" lies beyond a newline is kept.
std::string remove_bracket_spans(const std::string& text) {
  std::string result;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == '[') {
      size_t close = text.find_first_of("]\n", pos + 1);
      if (close != std::string::npos && text[close] == ']') {
        pos = close + 1;
        continue;
      }
    }
    result += text[pos];
    ++pos;
  }
  return result;
}

}  // namespace

int64_t code_point_count(const std::string& text) {
  int64_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++count;
    }
  }
  return count;
}

bool is_valid_utf8(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    auto cp = decode_at(text, pos);
    if (!cp) {
      return false;
    }
    pos += cp->length;
  }
  return true;
}

std::string python_strip(const std::string& text) {
  // Find the first and one-past-last characters that are not spaces. Invalid bytes count
  // as non-space, so they are never removed.
  size_t begin = 0;
  size_t end = 0;
  bool found = false;
  size_t pos = 0;
  while (pos < text.size()) {
    auto cp = decode_at(text, pos);
    size_t length = cp ? cp->length : 1;
    if (!cp || !is_python_space(cp->value)) {
      if (!found) {
        begin = pos;
        found = true;
      }
      end = pos + length;
    }
    pos += length;
  }
  return found ? text.substr(begin, end - begin) : std::string();
}

std::string python_lstrip(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    auto cp = decode_at(text, pos);
    if (!cp || !is_python_space(cp->value)) {
      break;
    }
    pos += cp->length;
  }
  return text.substr(pos);
}

std::string capitalize_ascii(const std::string& text) {
  // NOTE: Python's capitalize() also changes the case of non-ASCII letters; those stay as
  // they are here.
  std::string result = text;
  for (size_t i = 0; i < result.size(); ++i) {
    char c = result[i];
    if (i == 0 && c >= 'a' && c <= 'z') {
      result[i] = static_cast<char>(c - 'a' + 'A');
    } else if (i > 0 && c >= 'A' && c <= 'Z') {
      result[i] = static_cast<char>(c - 'A' + 'a');
    }
  }
  return result;
}

std::string hellaswag_preprocess(const std::string& text) {
  std::string result = python_strip(text);
  result = replace_all(result, " [title]", ". ");
  result = remove_bracket_spans(result);
  return replace_all(result, "  ", " ");
}

}  // namespace dartquant::tasks
