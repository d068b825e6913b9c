// A strict RFC 4180 CSV reader for the MMLU data files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dartquant::tasks {

/// One CSV record and the 1-based line of the file on which it starts.
struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line = 0;
};

/// Parses CSV text: fields separated by ",", records by CRLF or LF (a lone CR also ends a
/// record, as in Python's csv module). A field that starts with a double quote is quoted:
/// it may contain commas, quotes written as "" and line breaks, which are kept byte for
/// byte. Blank lines are skipped. Throws dartquant::Error naming `source` and the line for
/// a quote inside an unquoted field, text after a closing quote, an unterminated quoted
/// field or invalid UTF-8.
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& source);

/// Reads and parses a CSV file; errors name the file.
std::vector<CsvRecord> read_csv(const std::filesystem::path& path);

}  // namespace dartquant::tasks
