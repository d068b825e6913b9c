// GPT-2's byte-level alphabet: every byte is shown as one printable character, so that a BPE
// vocabulary of strings covers arbitrary bytes.
#pragma once

#include <array>
#include <string>

namespace dartquant::tokenizer {

/// UTF-8 of the character that represents each byte (GPT-2's bytes_to_unicode). Bytes
/// 0x21..0x7E, 0xA1..0xAC and 0xAE..0xFF represent themselves. The other 68 bytes map in
/// increasing order to U+0100 and up, so the space 0x20 is "Ġ" (U+0120).
const std::array<std::string, 256>& byte_level_alphabet();

/// GPT-2's pre-tokenization regex, which the ByteLevel pre-tokenizer uses with use_regex.
inline constexpr const char* kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

}  // namespace dartquant::tokenizer
