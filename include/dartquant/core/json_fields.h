// Typed, strict reading of JSON configuration files (profiles, presets):
// every error names the file and the dotted field.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dartquant/core/error.h"

namespace dartquant {

/// Typed access to the members of one JSON object. Errors name the source and
/// the dotted field, and members outside `allowed` are rejected.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string source, std::string prefix, const std::vector<std::string>& allowed)
      : object_(object), source_(std::move(source)), prefix_(std::move(prefix)) {
    DQ_CHECK(object.is_object(), source_, ": ", prefix_.empty() ? "the file" : "field \"" + prefix_ + "\"",
             " must be a JSON object, got ", object.dump());
    for (const auto& item : object.items()) {
      DQ_CHECK(std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end(), source_,
               ": unknown field \"", path(item.key()), "\"; valid fields here: ", join(allowed));
    }
  }

  /// Dotted name of member `key`, e.g. "weights.bits".
  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  const std::string& source() const { return source_; }

  bool has(const std::string& key) const { return object_.contains(key); }

  const nlohmann::json& require(const std::string& key) const {
    DQ_CHECK(object_.contains(key), source_, ": required field \"", path(key), "\" is missing");
    return object_.at(key);
  }

  int64_t integer(const std::string& key) const {
    const nlohmann::json& value = require(key);
    DQ_CHECK(value.is_number_integer(), source_, ": field \"", path(key), "\" must be an integer, got ",
             value.dump());
    return value.get<int64_t>();
  }

  double number(const std::string& key) const {
    const nlohmann::json& value = require(key);
    DQ_CHECK(value.is_number(), source_, ": field \"", path(key), "\" must be a number, got ", value.dump());
    return value.get<double>();
  }

  bool boolean(const std::string& key) const {
    const nlohmann::json& value = require(key);
    DQ_CHECK(value.is_boolean(), source_, ": field \"", path(key), "\" must be true or false, got ", value.dump());
    return value.get<bool>();
  }

  std::string string(const std::string& key) const {
    const nlohmann::json& value = require(key);
    DQ_CHECK(value.is_string(), source_, ": field \"", path(key), "\" must be a string, got ", value.dump());
    return value.get<std::string>();
  }

  /// Reads a non-empty array of numbers.
  std::vector<double> numbers(const std::string& key) const {
    const nlohmann::json& value = require(key);
    DQ_CHECK(value.is_array() && !value.empty(), source_, ": field \"", path(key),
             "\" must be a non-empty array of numbers, got ", value.dump());
    std::vector<double> result;
    for (const auto& item : value) {
      DQ_CHECK(item.is_number(), source_, ": field \"", path(key), "\" must hold numbers only, got ", item.dump());
      result.push_back(item.get<double>());
    }
    return result;
  }

  /// Returns a reader for the member object `key`.
  FieldReader object(const std::string& key, const std::vector<std::string>& allowed) const {
    return FieldReader(require(key), source_, path(key), allowed);
  }

  /// The prefix for validate() messages: "<source>: field <prefix>".
  std::string where() const { return source_ + ": field \"" + prefix_ + "\""; }

  static std::string join(const std::vector<std::string>& names) {
    std::string joined;
    for (const auto& name : names) {
      joined += (joined.empty() ? "" : ", ") + name;
    }
    return joined;
  }

 private:
  const nlohmann::json& object_;
  std::string source_;
  std::string prefix_;
};

/// Parses the JSON file at `path`; errors name the file.
inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  DQ_CHECK(in.good(), "cannot open ", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& error) {
    throw Error(str(path.string(), ": invalid JSON: ", error.what()));
  }
}

}  // namespace dartquant
