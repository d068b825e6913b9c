#include "dartquant/tasks/csv_reader.h"

#include "dartquant/core/error.h"
#include "dartquant/eval/text_corpus.h"
#include "dartquant/tasks/text.h"

namespace dartquant::tasks {
namespace {

/// A cursor over the text that counts physical lines (LF, CRLF or a lone CR).
class CsvScanner {
 public:
  CsvScanner(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  int64_t line() const { return line_; }

  /// Consumes a line break at the cursor, if there is one.
  bool consume_line_break() {
    if (at_end()) {
      return false;
    }
    if (text_[pos_] == '\r') {
      ++pos_;
      if (!at_end() && text_[pos_] == '\n') {
        ++pos_;
      }
      ++line_;
      return true;
    }
    if (text_[pos_] == '\n') {
      ++pos_;
      ++line_;
      return true;
    }
    return false;
  }

  /// Appends the character at the cursor to `out`, counting a line break it contains.
  void take(std::string& out) {
    char c = text_[pos_];
    out += c;
    ++pos_;
    if (c == '\n' || (c == '\r' && (at_end() || text_[pos_] != '\n'))) {
      ++line_;
    }
  }

  void skip() { ++pos_; }

  [[noreturn]] void fail(int64_t line, const std::string& message) const {
    throw Error(str(source_, ":", line, ": invalid CSV: ", message));
  }

 private:
  const std::string& text_;
  const std::string& source_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

bool at_field_end(const CsvScanner& scanner) {
  return scanner.at_end() || scanner.peek() == ',' || scanner.peek() == '\r' || scanner.peek() == '\n';
}

std::string read_quoted_field(CsvScanner& scanner) {
  int64_t start_line = scanner.line();
  std::string field;
  scanner.skip();  // the opening quote
  while (true) {
    if (scanner.at_end()) {
      scanner.fail(start_line, "quoted field is not closed before the end of the file");
    }
    if (scanner.peek() != '"') {
      scanner.take(field);
      continue;
    }
    scanner.skip();
    if (!scanner.at_end() && scanner.peek() == '"') {
      field += '"';  // "" is an escaped quote
      scanner.skip();
      continue;
    }
    if (!at_field_end(scanner)) {
      scanner.fail(scanner.line(), str("unexpected character '", scanner.peek(),
                                       "' after the closing quote; a field with quotes must be quoted whole"));
    }
    return field;
  }
}

std::string read_plain_field(CsvScanner& scanner) {
  std::string field;
  while (!at_field_end(scanner)) {
    if (scanner.peek() == '"') {
      scanner.fail(scanner.line(), "double quote inside an unquoted field; quote the field and write the quote as \"\"");
    }
    scanner.take(field);
  }
  return field;
}

}  // namespace

std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& source) {
  std::vector<CsvRecord> records;
  CsvScanner scanner(text, source);
  while (!scanner.at_end()) {
    if (scanner.consume_line_break()) {
      continue;  // a blank line
    }

    CsvRecord record;
    record.line = scanner.line();
    while (true) {
      std::string field = scanner.peek() == '"' ? read_quoted_field(scanner) : read_plain_field(scanner);
      if (!is_valid_utf8(field)) {
        scanner.fail(record.line, str("field ", record.fields.size() + 1, " is not valid UTF-8"));
      }
      record.fields.push_back(std::move(field));
      if (!scanner.at_end() && scanner.peek() == ',') {
        scanner.skip();
        if (scanner.at_end()) {
          record.fields.emplace_back();  // a trailing comma ends with an empty field
          break;
        }
        continue;
      }
      scanner.consume_line_break();
      break;
    }
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<CsvRecord> read_csv(const std::filesystem::path& path) {
  DQ_CHECK(std::filesystem::is_regular_file(path), path.string(), ": data file not found");
  return parse_csv(eval::read_text_file(path), path.string());
}

}  // namespace dartquant::tasks
