// Normalizers as Hugging Face tokenizers (Rust) applies them.
#include "tokenizer/normalizer.h"

#include <utility>
#include <vector>

#include "tokenizer/pattern.h"

namespace dartquant::tokenizer {
namespace {

constexpr const char* kSupported = "Sequence, Prepend, Replace";

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}

  void normalize(std::string& text) const override {
    for (const auto& step : steps_) {
      step->normalize(text);
    }
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}

  // An empty text stays empty.
  void normalize(std::string& text) const override {
    if (!text.empty()) {
      text.insert(0, prefix_);
    }
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::unique_ptr<Pattern> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}

  void normalize(std::string& text) const override {
    const auto matches = pattern_->find_all(text);
    if (matches.empty()) {
      return;
    }
    std::string replaced;
    replaced.reserve(text.size());
    size_t previous = 0;
    for (const auto& match : matches) {
      replaced.append(text, previous, match.begin - previous);
      replaced += content_;
      previous = match.end;
    }
    replaced.append(text, previous, std::string::npos);
    text = std::move(replaced);
  }

 private:
  std::unique_ptr<Pattern> pattern_;
  std::string content_;
};

std::unique_ptr<Normalizer> parse_sequence(const JsonNode& node) {
  const JsonNode list = node["normalizers"];
  std::vector<std::unique_ptr<Normalizer>> steps;
  for (size_t i = 0; i < list.array_size(); ++i) {
    auto step = parse_normalizer(list.at(i));
    if (step != nullptr) {
      steps.push_back(std::move(step));
    }
  }
  return std::make_unique<SequenceNormalizer>(std::move(steps));
}

}  // namespace

std::unique_ptr<Normalizer> parse_normalizer(const JsonNode& node) {
  if (node.value().is_null()) {
    return nullptr;
  }
  const std::string type = node.type();

  if (type == "Sequence") {
    return parse_sequence(node);
  }
  if (type == "Prepend") {
    return std::make_unique<PrependNormalizer>(node["prepend"].as_string());
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(parse_pattern(node["pattern"]), node["content"].as_string());
  }
  node["type"].fail("\"" + type + "\" is not supported (supported: " + kSupported +
                    "; Unicode normalization forms such as NFC or NFKC are not implemented)");
}

}  // namespace dartquant::tokenizer
