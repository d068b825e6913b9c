// Unicode character classes that tokenizer rules are written in, named after the Rust and
// Python functions whose behavior they reproduce.
#pragma once

namespace dartquant::tokenizer {

/// Unicode White_Space, which is what Rust's char::is_whitespace tests.
bool is_unicode_whitespace(char32_t c);

/// Python's str.isspace: White_Space plus U+001C..U+001F (bidirectional class B or S).
bool is_python_space(char32_t c);

/// Rust's char::is_numeric: general category Nd, Nl or No (PCRE2's Unicode tables).
bool is_numeric(char32_t c);

/// \w of Rust's regex crate (Unicode TR18 Annex C): Alphabetic, Mark, Decimal_Number,
/// Connector_Punctuation or Join_Control (PCRE2's Unicode tables). Hugging Face tokenizers
/// tests single_word added tokens with it.
bool is_word_char(char32_t c);

}  // namespace dartquant::tokenizer
