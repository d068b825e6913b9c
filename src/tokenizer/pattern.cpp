#include "tokenizer/pattern.h"

#include <utility>

#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

class RegexPattern : public Pattern {
 public:
  RegexPattern(const std::string& regex, const std::string& where) : regex_(regex, where) {}

  std::vector<Match> find_all(std::string_view text) const override { return regex_.find_all(text); }

 private:
  Regex regex_;
};

class LiteralPattern : public Pattern {
 public:
  explicit LiteralPattern(std::string literal) : literal_(std::move(literal)) {}

  std::vector<Match> find_all(std::string_view text) const override {
    std::vector<Match> matches;
    if (literal_.empty()) {
      return matches;
    }
    size_t pos = text.find(literal_);
    while (pos != std::string_view::npos) {
      matches.push_back({pos, pos + literal_.size()});
      pos = text.find(literal_, pos + literal_.size());
    }
    return matches;
  }

 private:
  std::string literal_;
};

class CharPattern : public Pattern {
 public:
  explicit CharPattern(std::function<bool(char32_t)> predicate) : predicate_(std::move(predicate)) {}

  std::vector<Match> find_all(std::string_view text) const override {
    std::vector<Match> matches;
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t length = utf8_length(static_cast<unsigned char>(text[pos]));
      if (predicate_(decode_utf8(text, pos))) {
        matches.push_back({pos, pos + length});
      }
      pos += length;
    }
    return matches;
  }

 private:
  std::function<bool(char32_t)> predicate_;
};

}  // namespace

std::unique_ptr<Pattern> parse_pattern(const JsonNode& node) {
  if (node.has("Regex")) {
    const JsonNode regex = node["Regex"];
    return make_regex_pattern(regex.as_string(), regex.where());
  }
  if (node.has("String")) {
    return make_literal_pattern(node["String"].as_string());
  }
  node.fail("must be {\"String\": ...} or {\"Regex\": ...}, got " + node.value().dump());
}

std::unique_ptr<Pattern> make_regex_pattern(const std::string& regex, const std::string& where) {
  return std::make_unique<RegexPattern>(regex, where);
}

std::unique_ptr<Pattern> make_literal_pattern(std::string literal) {
  return std::make_unique<LiteralPattern>(std::move(literal));
}

std::unique_ptr<Pattern> make_char_pattern(std::function<bool(char32_t)> predicate) {
  return std::make_unique<CharPattern>(std::move(predicate));
}

}  // namespace dartquant::tokenizer
