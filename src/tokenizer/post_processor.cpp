// Post-processors as Hugging Face tokenizers (Rust) applies them to a single sequence.
#include "tokenizer/post_processor.h"

#include <sstream>
#include <string>
#include <utility>

namespace dartquant::tokenizer {
namespace {

constexpr const char* kSupported = "TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence";

/// Special tokens before and after the text.
class SurroundProcessor : public PostProcessor {
 public:
  SurroundProcessor(std::vector<int64_t> before, std::vector<int64_t> after)
      : before_(std::move(before)), after_(std::move(after)) {}

  std::vector<int64_t> process(std::vector<int64_t> ids) const override {
    ids.insert(ids.begin(), before_.begin(), before_.end());
    ids.insert(ids.end(), after_.begin(), after_.end());
    return ids;
  }

  std::optional<int64_t> leading_token() const override {
    return before_.size() == 1 ? std::optional<int64_t>(before_[0]) : std::nullopt;
  }

 private:
  std::vector<int64_t> before_;
  std::vector<int64_t> after_;
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}

  std::vector<int64_t> process(std::vector<int64_t> ids) const override {
    for (const auto& step : steps_) {
      ids = step->process(std::move(ids));
    }
    return ids;
  }

  std::optional<int64_t> leading_token() const override {
    std::optional<int64_t> leading;
    for (const auto& step : steps_) {
      if (const auto token = step->leading_token()) {
        leading = token;
      }
    }
    return leading;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

// The ids of a special token named in a template, from the processor's special_tokens map.
std::vector<int64_t> special_token_ids(const JsonNode& node, const std::string& name) {
  const JsonNode special_tokens = node["special_tokens"];
  if (!special_tokens.has(name.c_str())) {
    special_tokens.fail("has no entry for \"" + name + "\", which the single template uses");
  }
  const JsonNode ids = special_tokens[name.c_str()]["ids"];
  std::vector<int64_t> result;
  for (size_t i = 0; i < ids.array_size(); ++i) {
    result.push_back(ids.at(i).as_int());
  }
  return result;
}

// Template items are objects ({"SpecialToken": {"id": ...}} or {"Sequence": {"id": "A"}}) or,
// in hand-written files, strings ("<s>", "$A", "$0", optionally followed by ":type_id").
std::unique_ptr<PostProcessor> parse_template(const JsonNode& node) {
  const JsonNode single = node["single"];
  std::vector<std::pair<std::string, bool>> items;  // name, is the sequence
  if (single.value().is_string()) {
    std::istringstream words(single.as_string());
    std::string word;
    while (words >> word) {
      const std::string name = word.substr(0, word.find(':'));
      items.emplace_back(name, !name.empty() && name[0] == '$');
    }
  } else {
    for (size_t i = 0; i < single.array_size(); ++i) {
      const JsonNode item = single.at(i);
      if (item.has("Sequence")) {
        items.emplace_back(item["Sequence"]["id"].as_string(), true);
      } else if (item.has("SpecialToken")) {
        items.emplace_back(item["SpecialToken"]["id"].as_string(), false);
      } else {
        item.fail("must be {\"SpecialToken\": ...} or {\"Sequence\": ...}, got " + item.value().dump());
      }
    }
  }

  std::vector<int64_t> before;
  std::vector<int64_t> after;
  bool seen_sequence = false;
  for (const auto& [name, is_sequence] : items) {
    if (is_sequence) {
      if (seen_sequence || (name != "A" && name != "$A" && name != "$" && name != "$0")) {
        single.fail("must contain the sequence A exactly once (got \"" + name + "\")");
      }
      seen_sequence = true;
      continue;
    }
    const auto ids = special_token_ids(node, name);
    (seen_sequence ? after : before).insert((seen_sequence ? after : before).end(), ids.begin(), ids.end());
  }
  if (!seen_sequence) {
    single.fail("must contain the sequence A exactly once");
  }
  return std::make_unique<SurroundProcessor>(std::move(before), std::move(after));
}

// RobertaProcessing and BertProcessing store tokens as ["<s>", 0] pairs.
int64_t pair_id(const JsonNode& node) { return node.at(1).as_int(); }

}  // namespace

std::unique_ptr<PostProcessor> parse_post_processor(const JsonNode& node) {
  if (node.value().is_null()) {
    return nullptr;
  }
  const std::string type = node.type();

  if (type == "TemplateProcessing") {
    return parse_template(node);
  }
  if (type == "ByteLevel") {
    // Only trims offsets, which ids do not carry.
    return std::make_unique<SurroundProcessor>(std::vector<int64_t>{}, std::vector<int64_t>{});
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return std::make_unique<SurroundProcessor>(std::vector<int64_t>{pair_id(node["cls"])},
                                               std::vector<int64_t>{pair_id(node["sep"])});
  }
  if (type == "Sequence") {
    const JsonNode list = node["processors"];
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (size_t i = 0; i < list.array_size(); ++i) {
      if (auto step = parse_post_processor(list.at(i))) {
        steps.push_back(std::move(step));
      }
    }
    return std::make_unique<SequenceProcessor>(std::move(steps));
  }
  node["type"].fail("\"" + type + "\" is not supported (supported: " + std::string(kSupported) + ")");
}

}  // namespace dartquant::tokenizer

