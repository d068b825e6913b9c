#include "tokenizer/json_node.h"

#include <utility>

#include "dartquant/core/error.h"

namespace dartquant::tokenizer {
namespace {

// A short excerpt of a value for error messages.
std::string excerpt(const nlohmann::json& value) {
  std::string text = value.dump();
  constexpr size_t kMaxLength = 80;
  if (text.size() > kMaxLength) {
    text = text.substr(0, kMaxLength) + "...";
  }
  return text;
}

}  // namespace

JsonNode::JsonNode(const nlohmann::json& value, std::string file, std::string field)
    : value_(&value), file_(std::move(file)), field_(std::move(field)) {}

nlohmann::json JsonNode::parse(const std::string& bytes, const std::string& file) {
  try {
    return nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {
    // parse_error for bad syntax, out_of_range for a number beyond the range of a double.
    throw Error(str(file, ": invalid JSON (", e.what(), "); the file is damaged or not JSON"));
  }
}

std::string JsonNode::where() const { return field_.empty() ? file_ : file_ + ": " + field_; }

void JsonNode::fail(const std::string& problem) const { throw Error(where() + " " + problem); }

bool JsonNode::has(const char* key) const {
  return value_->is_object() && value_->contains(key) && !value_->at(key).is_null();
}

JsonNode JsonNode::operator[](const char* key) const {
  if (!value_->is_object()) {
    fail("must be a JSON object, got " + excerpt(*value_));
  }
  const std::string child = field_.empty() ? key : field_ + "." + key;
  if (!has(key)) {
    throw Error(str(file_, ": ", child, " is missing"));
  }
  return JsonNode(value_->at(key), file_, child);
}

std::optional<JsonNode> JsonNode::optional(const char* key) const {
  if (!has(key)) {
    return std::nullopt;
  }
  return (*this)[key];
}

JsonNode JsonNode::at(size_t index) const {
  if (!value_->is_array()) {
    fail("must be a JSON array, got " + excerpt(*value_));
  }
  if (index >= value_->size()) {
    fail(str("has ", value_->size(), " elements, element ", index, " is missing"));
  }
  return JsonNode(value_->at(index), file_, str(field_, "[", index, "]"));
}

size_t JsonNode::array_size() const {
  if (!value_->is_array()) {
    fail("must be a JSON array, got " + excerpt(*value_));
  }
  return value_->size();
}

std::string JsonNode::as_string() const {
  if (!value_->is_string()) {
    fail("must be a string, got " + excerpt(*value_));
  }
  return value_->get<std::string>();
}

bool JsonNode::as_bool() const {
  if (!value_->is_boolean()) {
    fail("must be true or false, got " + excerpt(*value_));
  }
  return value_->get<bool>();
}

int64_t JsonNode::as_int() const {
  if (!value_->is_number_integer()) {
    fail("must be an integer, got " + excerpt(*value_));
  }
  return value_->get<int64_t>();
}

bool JsonNode::bool_or(const char* key, bool fallback) const {
  const auto member = optional(key);
  return member.has_value() ? member->as_bool() : fallback;
}

std::string JsonNode::type() const { return (*this)["type"].as_string(); }

}  // namespace dartquant::tokenizer
