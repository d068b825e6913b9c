// ByteLevel pre-tokenizer of Hugging Face tokenizers (Rust): per piece, an optional
// leading space, an optional split with the GPT-2 regex, then the byte-level alphabet.
#include "tokenizer/byte_level.h"

#include <memory>
#include <utility>
#include <vector>

#include "tokenizer/pattern.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

std::array<std::string, 256> build_alphabet() {
  std::array<std::string, 256> alphabet;
  char32_t next_unprintable = 0x100;
  for (int byte = 0; byte < 256; ++byte) {
    const bool printable = (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
    append_utf8(alphabet[byte], printable ? static_cast<char32_t>(byte) : next_unprintable++);
  }
  return alphabet;
}

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) {
      regex_ = make_regex_pattern(kGpt2Regex, "ByteLevel pre-tokenizer (GPT-2 regex)");
    }
  }

  void pre_tokenize(std::vector<Piece>& pieces) const override {
    const auto& alphabet = byte_level_alphabet();
    std::vector<Piece> result;
    result.reserve(pieces.size());
    for (auto& piece : pieces) {
      // Rust applies add_prefix_space to every piece that reaches this step, not only the
      // first one of the text.
      std::string text = std::move(piece.text);
      if (add_prefix_space_ && (text.empty() || text[0] != ' ')) {
        text.insert(text.begin(), ' ');
      }

      std::vector<Match> ranges{{0, text.size()}};
      if (regex_ != nullptr) {
        ranges = split_at_matches(text.size(), regex_->find_all(text), SplitBehavior::kIsolated, false);
      }

      for (const auto& range : ranges) {
        Piece mapped{std::string(), piece.at_start && range.begin == 0};
        mapped.text.reserve(2 * (range.end - range.begin));
        for (size_t i = range.begin; i < range.end; ++i) {
          mapped.text += alphabet[static_cast<unsigned char>(text[i])];
        }
        if (!mapped.text.empty()) {
          result.push_back(std::move(mapped));
        }
      }
    }
    pieces = std::move(result);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Pattern> regex_;
};

}  // namespace

const std::array<std::string, 256>& byte_level_alphabet() {
  static const std::array<std::string, 256> alphabet = build_alphabet();
  return alphabet;
}

std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}

}  // namespace dartquant::tokenizer
