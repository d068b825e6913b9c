// Regular expressions of tokenizer.json (Hugging Face tokenizers compiles them with
// Oniguruma), run by PCRE2.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dartquant::tokenizer {

/// A byte range [begin, end) of a text.
struct Match {
  size_t begin = 0;
  size_t end = 0;
};

/// A regular expression in Oniguruma's syntax (as Hugging Face tokenizers reads the
/// patterns of tokenizer.json), compiled by PCRE2 with UTF and UCP. Where the two differ, the
/// Oniguruma meaning is kept. So ^ and $ anchor at every line (Ruby syntax), with LF as the
/// only newline. \s is White_Space (without U+180E), \w is Letter, Mark, Number or
/// Connector_Punctuation, and \h is a hex digit.
///
/// NOTE: \W and \H inside a character class, \b (built on PCRE2's \w) and Oniguruma-only
/// syntax such as nested classes keep PCRE2's meaning or fail to compile. The tokenizers
/// supported so far do not use them.
class Regex {
 public:
  /// Compiles `pattern`. Throws dartquant::Error with `where` (file and field) and the PCRE2
  /// message when the pattern is invalid.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();

  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  /// All non-overlapping matches in valid UTF-8 `text`, left to right, as Rust's find_iter
  /// yields them: an empty match right after the previous match is skipped and the search
  /// resumes one character further. Thread-safe.
  std::vector<Match> find_all(std::string_view text) const;

  /// True when a match begins exactly at byte `pos` of valid UTF-8 `text`.
  bool matches_at(std::string_view text, size_t pos) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8*
  std::string where_;
};

}  // namespace dartquant::tokenizer
