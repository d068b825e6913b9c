// Patterns that split pre-tokenizers and Replace normalizers search for.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/regex.h"

namespace dartquant::tokenizer {

/// Finds delimiters in a text. Implementations are immutable and thread-safe.
class Pattern {
 public:
  virtual ~Pattern() = default;

  /// Ordered, non-overlapping matches in valid UTF-8 `text`.
  virtual std::vector<Match> find_all(std::string_view text) const = 0;
};

/// Reads a tokenizer.json pattern object: {"String": literal} or {"Regex": pattern}.
std::unique_ptr<Pattern> parse_pattern(const JsonNode& node);

/// A regular expression (see Regex for its dialect).
std::unique_ptr<Pattern> make_regex_pattern(const std::string& regex, const std::string& where);

/// Every occurrence of `literal`, leftmost first. An empty literal matches nothing.
std::unique_ptr<Pattern> make_literal_pattern(std::string literal);

/// Every character for which `predicate` is true, one match per character.
std::unique_ptr<Pattern> make_char_pattern(std::function<bool(char32_t)> predicate);

}  // namespace dartquant::tokenizer
