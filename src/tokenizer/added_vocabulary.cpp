#include "tokenizer/added_vocabulary.h"

#include <algorithm>
#include <utility>

#include "tokenizer/char_class.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

// Start of the character that ends at byte `end` of valid UTF-8 `text` (end > 0).
size_t previous_char_start(std::string_view text, size_t end) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) {
    --pos;
  }
  return pos;
}

bool word_char_before(std::string_view text, size_t pos) {
  return pos > 0 && is_word_char(decode_utf8(text, previous_char_start(text, pos)));
}

bool word_char_at(std::string_view text, size_t pos) {
  return pos < text.size() && is_word_char(decode_utf8(text, pos));
}

// Start of the run of whitespace that ends at `pos`.
size_t whitespace_start_before(std::string_view text, size_t pos) {
  while (pos > 0) {
    const size_t start = previous_char_start(text, pos);
    if (!is_unicode_whitespace(decode_utf8(text, start))) {
      break;
    }
    pos = start;
  }
  return pos;
}

// End of the run of whitespace that starts at `pos`.
size_t whitespace_end_after(std::string_view text, size_t pos) {
  while (pos < text.size() && is_unicode_whitespace(decode_utf8(text, pos))) {
    pos += utf8_length(static_cast<unsigned char>(text[pos]));
  }
  return pos;
}

}  // namespace

int32_t AddedVocabulary::Trie::add_node() {
  token_at_node.push_back(-1);
  return static_cast<int32_t>(token_at_node.size() - 1);
}

void AddedVocabulary::Trie::insert(const std::string& pattern, int32_t token) {
  if (token_at_node.empty()) {
    add_node();
  }
  int32_t node = 0;
  for (const char byte : pattern) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(byte);
    const auto it = children.find(key);
    if (it != children.end()) {
      node = it->second;
    } else {
      const int32_t child = add_node();
      children.emplace(key, child);
      node = child;
    }
  }
  // The first token with a given pattern wins.
  if (token_at_node[node] < 0) {
    token_at_node[node] = token;
  }
}

std::pair<size_t, int32_t> AddedVocabulary::Trie::longest_match(std::string_view text, size_t pos) const {
  std::pair<size_t, int32_t> best{0, -1};
  if (token_at_node.empty()) {
    return best;
  }
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]);
    const auto it = children.find(key);
    if (it == children.end()) {
      break;
    }
    node = it->second;
    if (token_at_node[node] >= 0) {
      best = {i + 1 - pos, token_at_node[node]};
    }
  }
  return best;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& token = tokens_[i];
    max_id_ = std::max(max_id_, token.id);
    std::string pattern = token.content;
    if (token.normalized && normalizer != nullptr) {
      normalizer->normalize(pattern);
    }
    if (!pattern.empty()) {
      (token.normalized ? normalized_ : raw_).insert(pattern, static_cast<int32_t>(i));
    }
  }
}

std::optional<int64_t> AddedVocabulary::find(const std::string& content) const {
  for (const auto& token : tokens_) {
    if (token.content == content) {
      return token.id;
    }
  }
  return std::nullopt;
}

std::vector<Segment> AddedVocabulary::split(std::string_view text, bool normalized) const {
  const Trie& trie = normalized ? normalized_ : raw_;
  std::vector<Segment> segments;
  size_t segment_start = 0;  // end of the previous added token
  size_t pos = 0;            // where the search for the next match resumes
  while (pos < text.size()) {
    const auto [length, index] = trie.longest_match(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    size_t start = pos;
    size_t stop = pos + length;
    pos = stop;

    // HF tokenizers (Rust) AddedVocabulary::find_matches: a single_word token touching a word
    // character is dropped and the search goes on after it.
    const AddedToken& token = tokens_[index];
    if (token.single_word && (word_char_before(text, start) || word_char_at(text, stop))) {
      continue;
    }
    if (token.lstrip) {
      start = std::max(whitespace_start_before(text, start), segment_start);
    }
    if (token.rstrip) {
      stop = whitespace_end_after(text, stop);
    }

    if (segment_start < start) {
      segments.push_back({std::nullopt, segment_start, start});
    }
    segments.push_back({token.id, std::max(start, segment_start), stop});
    segment_start = stop;
    pos = std::max(pos, stop);
  }
  if (segment_start < text.size() || segments.empty()) {
    segments.push_back({std::nullopt, segment_start, text.size()});
  }
  return segments;
}

}  // namespace dartquant::tokenizer
