// Typed, path-aware access to tokenizer.json and tokenizer_config.json values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dartquant::tokenizer {

/// A JSON value together with its file and field path, so that every error reads
/// "<file>: <field> <problem>". It does not own the value, so the document must outlive it.
class JsonNode {
 public:
  JsonNode(const nlohmann::json& value, std::string file, std::string field);

  /// Parses `bytes` as JSON without any Unicode normalization (strings keep their bytes).
  /// Throws dartquant::Error naming `file` and the parser's position on invalid JSON.
  static nlohmann::json parse(const std::string& bytes, const std::string& file);

  const nlohmann::json& value() const { return *value_; }
  const std::string& field() const { return field_; }

  /// "<file>: <field>", or just the file at the document root.
  std::string where() const;

  /// True when the object has `key` with a non-null value.
  bool has(const char* key) const;

  /// The member `key` of this object. Throws when this is not an object or the key is missing or null.
  JsonNode operator[](const char* key) const;

  /// The member `key`, or nullopt when it is missing or null.
  std::optional<JsonNode> optional(const char* key) const;

  /// Element `index` of this array.
  JsonNode at(size_t index) const;

  /// Number of elements of this array. Throws when this is not an array.
  size_t array_size() const;

  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int() const;

  /// The member `key` as a boolean, or `fallback` when it is missing or null.
  bool bool_or(const char* key, bool fallback) const;

  /// The "type" member of a component object (normalizer, pre_tokenizer, model, ...).
  std::string type() const;

  /// Throws dartquant::Error with "<file>: <field> <problem>".
  [[noreturn]] void fail(const std::string& problem) const;

 private:
  const nlohmann::json* value_;
  std::string file_;
  std::string field_;
};

}  // namespace dartquant::tokenizer
