// Added tokens of tokenizer.json: strings matched in the text before pre-tokenization, each
// becoming one id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/normalizer.h"

namespace dartquant::tokenizer {

/// One entry of tokenizer.json's added_tokens.
struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool single_word = false;  ///< match only where no word character touches it
  bool lstrip = false;       ///< the match absorbs whitespace before it
  bool rstrip = false;       ///< the match absorbs whitespace after it
  bool normalized = true;    ///< matched in the normalized text, else in the raw text
  bool special = false;
};

/// A part of a text: an added token, or text that still has to be tokenized.
struct Segment {
  std::optional<int64_t> token_id;  ///< set for an added token
  size_t begin = 0;                 ///< byte range in the text that was split
  size_t end = 0;
};

/// The added tokens and their matching rules, as in Hugging Face tokenizers (Rust)
/// AddedVocabulary: a text is scanned for the leftmost match, the longest one where several
/// start there, then scanning resumes after it.
class AddedVocabulary {
 public:
  /// Tokens with `normalized` set are matched by their content after `normalizer` (may be
  /// nullptr), since they are searched for in normalized text.
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  /// Splits `text` at the tokens whose `normalized` flag equals `normalized`. Returns the
  /// segments in order, covering all of `text` except whitespace that lstrip/rstrip
  /// tokens absorb.
  std::vector<Segment> split(std::string_view text, bool normalized) const;

  /// Id of the added token whose content is `content`.
  std::optional<int64_t> find(const std::string& content) const;

  /// Largest id of an added token, -1 when there are none.
  int64_t max_id() const { return max_id_; }

 private:
  // A byte trie of the patterns of one matching set.
  struct Trie {
    std::unordered_map<uint64_t, int32_t> children;  // (node << 8 | byte) -> child node
    std::vector<int32_t> token_at_node;               // index into tokens_, or -1
    int32_t add_node();
    void insert(const std::string& pattern, int32_t token);
    // Length and token of the longest pattern that starts at `pos`, or {0, -1}.
    std::pair<size_t, int32_t> longest_match(std::string_view text, size_t pos) const;
  };

  std::vector<AddedToken> tokens_;
  Trie raw_;
  Trie normalized_;
  int64_t max_id_ = -1;
};

}  // namespace dartquant::tokenizer
