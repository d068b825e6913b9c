// JSON parsing for untrusted files (private to src/io).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace dartquant::io::detail {

/// Description of a JSON text's origin, used in the messages of parse_strict_json.
struct JsonSource {
  std::string file;                ///< path that prefixes every message
  const char* document;            ///< what the text is, e.g. "header"
  const char* top_level_key_kind;  ///< what a top-level key names, e.g. "tensor name"
  int max_depth;                   ///< deepest nesting accepted (the top-level value is depth 0)
};

/// Parses `text` as JSON, rejecting what nlohmann::json would accept silently or at great cost:
/// duplicate keys in any object (nlohmann keeps the last one, so two readers could see different
/// values) and nesting deeper than `source.max_depth`. Throws dartquant::Error.
nlohmann::json parse_strict_json(std::string_view text, const JsonSource& source);

/// Replaces control characters and bytes that are not valid UTF-8 with \xNN, so that a hostile
/// file cannot put them into a log line or an exception message. Valid non-ASCII UTF-8 is kept.
/// Text longer than `max_bytes` is cut there and "..." appended.
std::string printable(std::string_view text, size_t max_bytes = 200);

/// Whether `text` is valid UTF-8 (JSON strings must be).
bool is_valid_utf8(std::string_view text);

/// Returns `text` made printable and wrapped in double quotes, for names in messages.
std::string quote_text(std::string_view text);

}  // namespace dartquant::io::detail
