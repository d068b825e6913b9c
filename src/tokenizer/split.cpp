#include "tokenizer/split.h"

namespace dartquant::tokenizer {
namespace {

// A range of the text and whether it is a delimiter.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  bool is_delimiter = false;
};

// Covers the whole text with alternating gaps and matches, as HF tokenizers'
// Pattern::find_matches does: an empty text is one empty gap.
std::vector<Span> cover(size_t text_size, const std::vector<Match>& matches, bool invert) {
  std::vector<Span> spans;
  if (text_size == 0) {
    spans.push_back({0, 0, invert});
    return spans;
  }
  size_t previous = 0;
  for (const auto& match : matches) {
    if (previous != match.begin) {
      spans.push_back({previous, match.begin, invert});
    }
    spans.push_back({match.begin, match.end, !invert});
    previous = match.end;
  }
  if (previous != text_size) {
    spans.push_back({previous, text_size, invert});
  }
  return spans;
}

// HF tokenizers (Rust) NormalizedString::split: a delimiter merges into its neighbor only
// when the neighbor is not a delimiter too, so two adjacent delimiters stay apart.
std::vector<Span> merge_with_previous(const std::vector<Span>& spans) {
  std::vector<Span> merged;
  bool previous_delimiter = false;
  for (const auto& span : spans) {
    if (span.is_delimiter && !previous_delimiter && !merged.empty()) {
      merged.back().end = span.end;
    } else {
      merged.push_back({span.begin, span.end, false});
    }
    previous_delimiter = span.is_delimiter;
  }
  return merged;
}

std::vector<Span> merge_with_next(const std::vector<Span>& spans) {
  std::vector<Span> reversed;
  bool previous_delimiter = false;
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (it->is_delimiter && !previous_delimiter && !reversed.empty()) {
      reversed.back().begin = it->begin;
    } else {
      reversed.push_back({it->begin, it->end, false});
    }
    previous_delimiter = it->is_delimiter;
  }
  return std::vector<Span>(reversed.rbegin(), reversed.rend());
}

std::vector<Span> merge_contiguous(const std::vector<Span>& spans) {
  std::vector<Span> merged;
  bool previous_delimiter = false;
  for (const auto& span : spans) {
    if (span.is_delimiter == previous_delimiter && !merged.empty()) {
      merged.back().end = span.end;
    } else {
      merged.push_back({span.begin, span.end, false});
    }
    previous_delimiter = span.is_delimiter;
  }
  return merged;
}

}  // namespace

SplitBehavior parse_split_behavior(const JsonNode& node) {
  const std::string name = node.as_string();
  if (name == "Removed") {
    return SplitBehavior::kRemoved;
  }
  if (name == "Isolated") {
    return SplitBehavior::kIsolated;
  }
  if (name == "MergedWithPrevious") {
    return SplitBehavior::kMergedWithPrevious;
  }
  if (name == "MergedWithNext") {
    return SplitBehavior::kMergedWithNext;
  }
  if (name == "Contiguous") {
    return SplitBehavior::kContiguous;
  }
  node.fail("\"" + name +
            "\" is not a split behavior (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
            "Contiguous)");
}

std::vector<Match> split_at_matches(size_t text_size, const std::vector<Match>& matches, SplitBehavior behavior,
                                    bool invert) {
  std::vector<Span> spans = cover(text_size, matches, invert);
  switch (behavior) {
    case SplitBehavior::kRemoved:
    case SplitBehavior::kIsolated:
      break;
    case SplitBehavior::kMergedWithPrevious:
      spans = merge_with_previous(spans);
      break;
    case SplitBehavior::kMergedWithNext:
      spans = merge_with_next(spans);
      break;
    case SplitBehavior::kContiguous:
      spans = merge_contiguous(spans);
      break;
  }

  std::vector<Match> pieces;
  pieces.reserve(spans.size());
  for (const auto& span : spans) {
    const bool removed = behavior == SplitBehavior::kRemoved && span.is_delimiter;
    if (!removed && span.end > span.begin) {
      pieces.push_back({span.begin, span.end});
    }
  }
  return pieces;
}

}  // namespace dartquant::tokenizer
