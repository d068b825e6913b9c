// Normalizers of tokenizer.json: text rewrites applied before pre-tokenization.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/json_node.h"

namespace dartquant::tokenizer {

/// One normalization step. Implementations are immutable and thread-safe.
class Normalizer {
 public:
  virtual ~Normalizer() = default;

  /// Rewrites valid UTF-8 `text` in place.
  virtual void normalize(std::string& text) const = 0;
};

/// Builds the normalizer object of tokenizer.json: Sequence, Prepend or Replace. Returns
/// nullptr for null. Unicode normalization forms (NFC, NFKC, ...) and the other types are
/// not implemented and throw dartquant::Error naming the field.
std::unique_ptr<Normalizer> parse_normalizer(const JsonNode& node);

}  // namespace dartquant::tokenizer
