// Metaspace pre-tokenizer of Hugging Face tokenizers (Rust), used by the fast tokenizers of
// SentencePiece models: spaces become "▁" and words start with it.
#include <memory>
#include <utility>
#include <vector>

#include "tokenizer/pattern.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/split.h"

namespace dartquant::tokenizer {
namespace {

std::string replace_spaces(const std::string& text, const std::string& replacement) {
  std::string replaced;
  replaced.reserve(text.size());
  for (const char c : text) {
    if (c == ' ') {
      replaced += replacement;
    } else {
      replaced += c;
    }
  }
  return replaced;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme) {
    if (split) {
      delimiter_ = make_literal_pattern(replacement_);
    }
  }

  void pre_tokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> result;
    result.reserve(pieces.size());
    for (auto& piece : pieces) {
      std::string text = replace_spaces(piece.text, replacement_);

      // "first" prepends only to the piece at the very start of the input, so text after an
      // added token gets no "▁".
      const bool prepend = scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && piece.at_start);
      if (prepend && !starts_with(text, replacement_)) {
        text.insert(0, replacement_);
      }

      if (delimiter_ == nullptr) {
        result.push_back({std::move(text), piece.at_start});
        continue;
      }
      const auto ranges =
          split_at_matches(text.size(), delimiter_->find_all(text), SplitBehavior::kMergedWithNext, false);
      for (const auto& range : ranges) {
        result.push_back({text.substr(range.begin, range.end - range.begin), piece.at_start && range.begin == 0});
      }
    }
    pieces = std::move(result);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  std::unique_ptr<Pattern> delimiter_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(std::string replacement, PrependScheme scheme,
                                                           bool split) {
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, split);
}

}  // namespace dartquant::tokenizer
