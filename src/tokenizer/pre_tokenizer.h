// Pre-tokenizers of tokenizer.json: they cut normalized text into the words that the model
// tokenizes one by one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_node.h"

namespace dartquant::tokenizer {

/// A piece of text on its way to the model.
struct Piece {
  std::string text;
  /// The piece begins at the first character of the input text. Metaspace's "first"
  /// prepend scheme adds its replacement character only to such a piece.
  bool at_start = false;
};

/// One pre-tokenization step. Implementations are immutable and thread-safe.
class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;

  /// Replaces `pieces` by their parts in order, dropping empty parts.
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

/// Builds the pre_tokenizer object of tokenizer.json: Sequence, Split, Digits, ByteLevel,
/// Metaspace, Whitespace or WhitespaceSplit. Returns nullptr for null. Throws
/// dartquant::Error naming the field for any other type or an invalid setting.
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonNode& node);

/// ByteLevel pre-tokenizer: optionally prefixes a space, optionally splits with the GPT-2
/// regex, then maps every byte to its GPT-2 byte-level character.
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);

/// When Metaspace prepends its replacement character.
enum class PrependScheme { kAlways, kFirst, kNever };

/// Metaspace pre-tokenizer: spaces become `replacement` (one character, usually U+2581),
/// which is also prepended per `scheme`. With `split`, pieces break before each replacement.
std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(std::string replacement, PrependScheme scheme,
                                                           bool split);

}  // namespace dartquant::tokenizer
