// Evaluation text and its token stream for perplexity.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dartquant/tokenizer/tokenizer.h"

namespace dartquant::eval {

/// Builds the WikiText-2 text as the GPTQ protocol reads it through the Hugging
/// Face `wikitext-2-raw-v1` dataset: every line of the raw file with its
/// trailing newline is a row, whitespace-only lines become empty rows, and the
/// rows are joined with "\n\n".
std::string wikitext_text(const std::filesystem::path& raw_file);

/// Reads a file byte for byte.
std::string read_text_file(const std::filesystem::path& path);

/// BOS (when the tokenizer has one) followed by encode(text): the stream that
/// perplexity windows are cut from.
std::vector<int64_t> token_stream(const tokenizer::Tokenizer& tokenizer, const std::string& text);

/// SHA-256 of the stream as little-endian int32 values, the form recorded in
/// the reference ppl.json files.
std::string stream_sha256(const std::vector<int64_t>& stream);

}  // namespace dartquant::eval
