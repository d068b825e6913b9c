// Post-processors of tokenizer.json: they add special tokens around an encoded text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "tokenizer/json_node.h"

namespace dartquant::tokenizer {

/// Adds special tokens to the ids of a single text. Implementations are immutable.
class PostProcessor {
 public:
  virtual ~PostProcessor() = default;

  /// Returns `ids` with the special tokens of a single sequence added.
  virtual std::vector<int64_t> process(std::vector<int64_t> ids) const = 0;

  /// Id of the token placed before the text, if there is exactly one.
  virtual std::optional<int64_t> leading_token() const = 0;
};

/// Builds the post_processor object of tokenizer.json: TemplateProcessing (the "single"
/// template), ByteLevel (no ids added), RobertaProcessing, BertProcessing or a Sequence of
/// them. Returns nullptr for null and throws dartquant::Error naming the field otherwise.
std::unique_ptr<PostProcessor> parse_post_processor(const JsonNode& node);

}  // namespace dartquant::tokenizer
