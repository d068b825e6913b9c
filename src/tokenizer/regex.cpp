#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "dartquant/core/error.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  const int length = pcre2_get_error_message(code, buffer, sizeof(buffer));
  return length < 0 ? "PCRE2 error " + std::to_string(code) : std::string(reinterpret_cast<char*>(buffer));
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

struct CompileContextDeleter {
  void operator()(pcre2_compile_context* context) const { pcre2_compile_context_free(context); }
};

pcre2_code* as_code(void* code) { return static_cast<pcre2_code*>(code); }

// Members of Oniguruma's Unicode \s (the White_Space property) and \w (Letter, Mark, Number,
// Connector_Punctuation), written as PCRE2 class contents.
constexpr const char* kSpaceMembers =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
constexpr const char* kWordMembers = "\\p{L}\\p{M}\\p{N}\\p{Pc}";
constexpr const char* kHexMembers = "0-9A-Fa-f";

// Latin-1 digits of category No (superscripts 1-3 and vulgar fractions), which Oniguruma's
// \w matches outside a character class but not inside one.
constexpr const char* kLatin1OtherNumbers = "[\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}]";

// Wraps a translated class that used \w so that it follows Oniguruma's in-class \w, which
// leaves out kLatin1OtherNumbers.
// NOTE: a class that also lists one of those six characters explicitly loses or gains it.
std::string wrap_word_class(const std::string& translated_class, bool negated) {
  if (negated) {
    return std::string("(?:") + kLatin1OtherNumbers + "|" + translated_class + ")";
  }
  return std::string("(?:(?!") + kLatin1OtherNumbers + ")" + translated_class + ")";
}

// Rewrites the escapes whose meaning differs between Oniguruma (Ruby syntax, UTF-8) and PCRE2
// with UCP. PCRE2's \s also matches U+180E, and its \w lacks marks and connector punctuation
// other than "_". PCRE2's \h is horizontal space, Oniguruma's a hex digit. Everything else is
// copied unchanged.
std::string translate_oniguruma(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  bool in_class = false;
  size_t class_start = 0;  // position of the class's "[" in `out`
  bool class_negated = false;
  bool class_has_word = false;
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];

    if (c == '\\' && i + 1 < pattern.size()) {
      const char escape = pattern[i + 1];
      i += 2;
      if (escape == 'Q') {
        // \Q...\E quotes literally: copy it as it is.
        const size_t end = pattern.find("\\E", i);
        const size_t stop = end == std::string::npos ? pattern.size() : end + 2;
        out += "\\Q";
        out.append(pattern, i, stop - i);
        i = stop;
        continue;
      }
      const char* members = escape == 's' || escape == 'S' ? kSpaceMembers
                            : escape == 'w' || escape == 'W' ? kWordMembers
                            : escape == 'h' || escape == 'H' ? kHexMembers
                                                             : nullptr;
      const bool negated = escape == 'S' || escape == 'W' || escape == 'H';
      if (members == nullptr) {
        out += '\\';
        out += escape;
      } else if (!in_class) {
        out += negated ? "[^" : "[";
        out += members;
        out += ']';
      } else if (!negated) {
        out += members;
        class_has_word = class_has_word || escape == 'w';
      } else if (escape == 'S') {
        // Inside a class only the complement's difference can be added: U+180E.
        out += "\\S\\x{180E}";
      } else {
        // NOTE: \W and \H inside a character class keep PCRE2's meaning (no class
        // subtraction in PCRE2 10.42). No supported tokenizer uses them.
        out += '\\';
        out += escape;
      }
      continue;
    }

    if (!in_class && c == '[') {
      // A "]" right after "[" or "[^" is a literal member, not the end of the class.
      in_class = true;
      class_start = out.size();
      class_negated = false;
      class_has_word = false;
      out += c;
      ++i;
      if (i < pattern.size() && pattern[i] == '^') {
        class_negated = true;
        out += pattern[i++];
      }
      if (i < pattern.size() && pattern[i] == ']') {
        out += pattern[i++];
      }
      continue;
    }
    if (in_class && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      // A POSIX class such as [:alpha:] inside a character class.
      const size_t end = pattern.find(":]", i + 2);
      const size_t stop = end == std::string::npos ? pattern.size() : end + 2;
      out.append(pattern, i, stop - i);
      i = stop;
      continue;
    }
    out += c;
    ++i;
    if (in_class && c == ']') {
      in_class = false;
      if (class_has_word) {
        const std::string translated_class = out.substr(class_start);
        out.resize(class_start);
        out += wrap_word_class(translated_class, class_negated);
      }
    }
  }
  return out;
}

// Runs one search from `start`. Returns false when there is no match. Callers validate the
// text once, so PCRE2 skips its own UTF check on every call.
bool search(pcre2_code* code, std::string_view text, size_t start, uint32_t options, pcre2_match_data* data,
            const std::string& where, Match& match) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int rc = pcre2_match(code, subject, text.size(), start, options | PCRE2_NO_UTF_CHECK, data, nullptr);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    // The JIT runs on a 32 KiB stack, while the interpreter keeps its backtracking state on the
    // heap.
    rc = pcre2_match(code, subject, text.size(), start, options | PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, data,
                     nullptr);
  }
  if (rc == PCRE2_ERROR_NOMATCH) {
    return false;
  }
  DQ_CHECK(rc >= 0, where, ": matching the regular expression failed at byte ", start, " of a ", text.size(),
           "-byte text: ", pcre2_message(rc));

  const PCRE2_SIZE* offsets = pcre2_get_ovector_pointer(data);
  match.begin = offsets[0];
  match.end = offsets[1];
  return true;
}

}  // namespace

Regex::Regex(const std::string& pattern, const std::string& where) : where_(where) {
  std::unique_ptr<pcre2_compile_context, CompileContextDeleter> context(pcre2_compile_context_create(nullptr));
  pcre2_set_newline(context.get(), PCRE2_NEWLINE_LF);

  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  const std::string translated = translate_oniguruma(pattern);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error_code, &error_offset,
                                   context.get());
  DQ_CHECK(code != nullptr, where, ": invalid regular expression at byte ", error_offset, ": ",
           pcre2_message(error_code),
           translated == pattern ? std::string() : " (offset in the PCRE2 form \"" + translated + "\")");

  // The JIT is only an optimization: without it pcre2_match interprets the same pattern.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = code;
}

Regex::~Regex() { pcre2_code_free(as_code(code_)); }

std::vector<Match> Regex::find_all(std::string_view text) const {
  MatchData data(pcre2_match_data_create_from_pattern(as_code(code_), nullptr));
  std::vector<Match> matches;
  size_t start = 0;
  bool has_previous = false;
  size_t previous_end = 0;
  while (start <= text.size()) {
    Match match;
    if (!search(as_code(code_), text, start, 0, data.get(), where_, match)) {
      break;
    }
    if (match.begin == match.end && has_previous && match.end == previous_end) {
      if (start == text.size()) {
        break;
      }
      start += utf8_length(static_cast<unsigned char>(text[start]));
      continue;
    }
    matches.push_back(match);
    has_previous = true;
    previous_end = match.end;
    start = match.end;
  }
  return matches;
}

bool Regex::matches_at(std::string_view text, size_t pos) const {
  MatchData data(pcre2_match_data_create_from_pattern(as_code(code_), nullptr));
  Match match;
  return search(as_code(code_), text, pos, PCRE2_ANCHORED, data.get(), where_, match);
}

}  // namespace dartquant::tokenizer
