#include "strict_json.h"

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "dartquant/core/error.h"

namespace dartquant::io::detail {
namespace {

using Json = nlohmann::json;

// Strips nlohmann's "[json.exception.parse_error.101] " prefix, which means nothing to a user.
std::string describe_parse_error(const std::exception& error) {
  std::string_view message = error.what();
  const auto bracket = message.find("] ");
  if (!message.empty() && message.front() == '[' && bracket != std::string_view::npos) {
    message.remove_prefix(bracket + 2);
  }
  return printable(message, 400);
}

// A SAX handler that builds nothing. It rejects duplicate keys in any object, which
// nlohmann::json would resolve silently by keeping the last value, so that two readers of one
// file could see different tensors. It also stops nesting deeper than the format allows before
// any memory is spent on it.
class StructureChecker : public nlohmann::json_sax<Json> {
 public:
  explicit StructureChecker(const JsonSource& source) : source_(source) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }

  bool start_object(std::size_t) override {
    enter();
    open_objects_.emplace_back();
    return true;
  }

  bool key(string_t& key) override {
    const bool inserted = open_objects_.back().insert(key).second;
    if (open_objects_.size() == 1) {
      current_entry_ = key;
      DQ_CHECK(inserted, source_.file, ": duplicate ", source_.top_level_key_kind, " ", quote_text(key), " in the ",
               source_.document);
    } else {
      DQ_CHECK(inserted, source_.file, ": duplicate key ", quote_text(key), " in ", source_.document, " entry ",
               quote_text(current_entry_));
    }
    return true;
  }

  bool end_object() override {
    open_objects_.pop_back();
    --depth_;
    return true;
  }

  bool start_array(std::size_t) override {
    enter();
    return true;
  }

  bool end_array() override {
    --depth_;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
    throw Error(str(source_.file, ": ", source_.document, " is not valid JSON: ", describe_parse_error(error)));
  }

 private:
  void enter() {
    DQ_CHECK(depth_ < source_.max_depth, source_.file, ": ", source_.document, " JSON nests deeper than ",
             source_.max_depth, " levels, more than the format ever uses");
    ++depth_;
  }

  const JsonSource& source_;
  int depth_ = 0;
  std::vector<std::unordered_set<std::string>> open_objects_;  // keys seen, one set per open object
  std::string current_entry_;                                  // the top-level key being read
};

// Length of the valid UTF-8 sequence starting at text[i], or 0 if the bytes there are not one.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  uint32_t code_point = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code_point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    const auto byte = static_cast<unsigned char>(text[i + k]);
    if ((byte & 0xc0) != 0x80) {
      return 0;
    }
    code_point = (code_point << 6) | (byte & 0x3f);
  }

  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid.
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  const bool valid =
      code_point >= kMinimum[length] && (code_point < 0xd800 || code_point > 0xdfff) && code_point <= 0x10ffff;
  return valid ? length : 0;
}

}  // namespace

Json parse_strict_json(std::string_view text, const JsonSource& source) {
  // The first pass only checks keys and depth, and the second builds the value. nlohmann's
  // parser callbacks could do both in one pass, but in 3.11 they scan the parent object at every
  // object end, which is quadratic in the number of tensors.
  StructureChecker checker(source);
  Json::sax_parse(text.begin(), text.end(), &checker);

  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& error) {
    throw Error(str(source.file, ": ", source.document, " is not valid JSON: ", describe_parse_error(error)));
  }
}

std::string printable(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool cut = text.size() > max_bytes;
  if (cut) {
    text = text.substr(0, max_bytes);
  }

  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += text[i++];
      continue;
    }
    const size_t length = byte >= 0x80 ? utf8_sequence_length(text, i) : 0;
    if (length > 0) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
    ++i;
  }
  return cut ? out + "..." : out;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const size_t length = byte < 0x80 ? 1 : utf8_sequence_length(text, i);
    if (length == 0) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string quote_text(std::string_view text) { return "\"" + printable(text) + "\""; }

}  // namespace dartquant::io::detail
