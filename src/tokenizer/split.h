// Splitting a text at pattern matches, with the delimiter behaviors of Hugging Face
// tokenizers (SplitDelimiterBehavior).
#pragma once

#include <cstddef>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/regex.h"

namespace dartquant::tokenizer {

/// Treatment of the matched parts (delimiters) when a text is split.
enum class SplitBehavior {
  kRemoved,             ///< delimiters are dropped
  kIsolated,            ///< each delimiter is a piece of its own
  kMergedWithPrevious,  ///< a delimiter joins the piece before it
  kMergedWithNext,      ///< a delimiter joins the piece after it
  kContiguous,          ///< consecutive delimiters form one piece
};

/// Parses "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext" or "Contiguous".
SplitBehavior parse_split_behavior(const JsonNode& node);

/// Splits a text of `text_size` bytes at `matches`, which are ordered and non-overlapping and
/// may be empty. With `invert`, the matches are the pieces and the text between them the
/// delimiters. Returns the byte ranges of the pieces, without empty ones.
std::vector<Match> split_at_matches(size_t text_size, const std::vector<Match>& matches, SplitBehavior behavior,
                                    bool invert);

}  // namespace dartquant::tokenizer
