// String operations that lm-eval's task definitions apply in Python, reproduced on
// UTF-8 bytes so that prompts and choice lengths come out identical.
#pragma once

#include <cstdint>
#include <string>

namespace dartquant::tasks {

/// Number of Unicode code points in valid UTF-8 `text` (Python's len(str)).
int64_t code_point_count(const std::string& text);

/// True when `text` is valid UTF-8 (no overlong forms, surrogates or values above U+10FFFF).
bool is_valid_utf8(const std::string& text);

/// Python's str.strip() with no argument: removes leading and trailing characters for
/// which str.isspace() is true, including U+00A0 and the other Unicode spaces.
std::string python_strip(const std::string& text);

/// Python's str.lstrip() with no argument: removes leading characters for which
/// str.isspace() is true.
std::string python_lstrip(const std::string& text);

/// Python's str.capitalize() for ASCII letters: the first character upper-case, the rest
/// lower-case. Non-ASCII characters are left as they are.
std::string capitalize_ascii(const std::string& text);

/// lm-eval's HellaSwag `preprocess`: strip, " [title]" becomes ". ", every "[...]" span
/// (not crossing a newline) is deleted, then each "  " becomes " " in one left-to-right pass.
std::string hellaswag_preprocess(const std::string& text);

}  // namespace dartquant::tasks
