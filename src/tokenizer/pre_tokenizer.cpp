// The pre_tokenizer object of tokenizer.json and the pre-tokenizers that only split:
// Sequence, Split, Digits, Whitespace and WhitespaceSplit. Rules follow Hugging Face
// tokenizers (Rust) 0.2x.
#include "tokenizer/pre_tokenizer.h"

#include <utility>

#include "tokenizer/char_class.h"
#include "tokenizer/pattern.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

constexpr const char* kSupported = "Sequence, Split, Digits, ByteLevel, Metaspace, Whitespace, WhitespaceSplit";

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}

  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) {
      step->pre_tokenize(pieces);
    }
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

/// Splits every piece at the matches of a pattern.
class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Pattern> pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}

  void pre_tokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> result;
    result.reserve(pieces.size());
    for (auto& piece : pieces) {
      const auto ranges = split_at_matches(piece.text.size(), pattern_->find_all(piece.text), behavior_, invert_);
      if (ranges.size() == 1 && ranges[0].begin == 0 && ranges[0].end == piece.text.size()) {
        result.push_back(std::move(piece));
        continue;
      }
      for (const auto& range : ranges) {
        result.push_back({piece.text.substr(range.begin, range.end - range.begin), piece.at_start && range.begin == 0});
      }
    }
    pieces = std::move(result);
  }

 private:
  std::unique_ptr<Pattern> pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

std::unique_ptr<PreTokenizer> make_split(std::unique_ptr<Pattern> pattern, SplitBehavior behavior, bool invert) {
  return std::make_unique<SplitPreTokenizer>(std::move(pattern), behavior, invert);
}

std::unique_ptr<PreTokenizer> parse_sequence(const JsonNode& node) {
  const JsonNode list = node["pretokenizers"];
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  for (size_t i = 0; i < list.array_size(); ++i) {
    auto step = parse_pre_tokenizer(list.at(i));
    if (step != nullptr) {
      steps.push_back(std::move(step));
    }
  }
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

std::unique_ptr<PreTokenizer> parse_metaspace(const JsonNode& node) {
  const std::string replacement = node["replacement"].as_string();
  if (replacement.empty() || utf8_char_count(replacement) != 1) {
    node["replacement"].fail("must be one character, got \"" + replacement + "\"");
  }

  // Files written before tokenizers 0.19 carry add_prefix_space instead of prepend_scheme.
  PrependScheme scheme = node.bool_or("add_prefix_space", true) ? PrependScheme::kAlways : PrependScheme::kNever;
  if (const auto field = node.optional("prepend_scheme")) {
    const std::string name = field->as_string();
    if (name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      field->fail("\"" + name + "\" is not a prepend scheme (expected always, first or never)");
    }
  }
  return make_metaspace_pre_tokenizer(replacement, scheme, node.bool_or("split", true));
}

}  // namespace

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonNode& node) {
  if (node.value().is_null()) {
    return nullptr;
  }
  const std::string type = node.type();

  if (type == "Sequence") {
    return parse_sequence(node);
  }
  if (type == "Split") {
    return make_split(parse_pattern(node["pattern"]), parse_split_behavior(node["behavior"]),
                      node.bool_or("invert", false));
  }
  if (type == "Digits") {
    // Rust's char::is_numeric, so "½" and "²" are digits too, not only ASCII 0-9.
    const auto behavior =
        node.bool_or("individual_digits", false) ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
    return make_split(make_char_pattern(is_numeric), behavior, false);
  }
  if (type == "ByteLevel") {
    return make_byte_level_pre_tokenizer(node.bool_or("add_prefix_space", true), node.bool_or("use_regex", true));
  }
  if (type == "Metaspace") {
    return parse_metaspace(node);
  }
  if (type == "Whitespace") {
    // The pieces are the matches of \w+|[^\w\s]+, and whatever lies between them is dropped.
    return make_split(make_regex_pattern("\\w+|[^\\w\\s]+", "Whitespace pre-tokenizer"), SplitBehavior::kRemoved,
                      true);
  }
  if (type == "WhitespaceSplit") {
    return make_split(make_char_pattern(is_unicode_whitespace), SplitBehavior::kRemoved, false);
  }
  node["type"].fail("\"" + type + "\" is not supported (supported: " + kSupported + ")");
}

}  // namespace dartquant::tokenizer
