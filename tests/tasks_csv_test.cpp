// The RFC 4180 reader behind the MMLU loader.
#include <gtest/gtest.h>

#include "dartquant/core/error.h"
#include "dartquant/tasks/csv_reader.h"
#include "test_support.h"

namespace dartquant {
namespace {

using tasks::parse_csv;

std::string error_of(const std::string& text) {
  try {
    parse_csv(text, "sample.csv");
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(CsvReader, PlainRecords) {
  auto records = parse_csv("a,b,c\nd,e,f\n", "sample.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"d", "e", "f"}));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].line, 2);
}

TEST(CsvReader, QuotedFieldsKeepCommasQuotesAndBreaks) {
  auto records = parse_csv("\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\",\"\"\nnext,1\n", "sample.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"x, y", "say \"hi\"", "two\r\nlines", ""}));
  EXPECT_EQ(records[1].line, 3);  // the quoted line break counts
}

TEST(CsvReader, CrlfAndMissingFinalNewline) {
  auto records = parse_csv("a,b\r\nc,d", "sample.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"c", "d"}));
}

TEST(CsvReader, EmptyFieldsAndTrailingComma) {
  auto records = parse_csv(",x,\n,", "sample.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"", "x", ""}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"", ""}));
}

TEST(CsvReader, BlankLinesAreSkipped) {
  auto records = parse_csv("\na\n\r\n\nb\n\n", "sample.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].line, 2);
  EXPECT_EQ(records[1].line, 5);
}

TEST(CsvReader, KeepsSpacesAndUtf8) {
  auto records = parse_csv(" a ,$22 ,\"é ü\"\n", "sample.csv");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{" a ", "$22 ", "é ü"}));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsError) {
  auto message = error_of("ok,fine\nab\"c,d\n");
  EXPECT_NE(message.find("sample.csv:2"), std::string::npos) << message;
  EXPECT_NE(message.find("double quote inside an unquoted field"), std::string::npos) << message;
}

TEST(CsvReader, TextAfterClosingQuoteIsError) {
  auto message = error_of("\"abc\"d,e\n");
  EXPECT_NE(message.find("sample.csv:1"), std::string::npos) << message;
  EXPECT_NE(message.find("after the closing quote"), std::string::npos) << message;
}

TEST(CsvReader, UnterminatedQuoteNamesStartLine) {
  auto message = error_of("a,b\nc,\"open\nstill open\n");
  EXPECT_NE(message.find("sample.csv:2"), std::string::npos) << message;
  EXPECT_NE(message.find("not closed"), std::string::npos) << message;
}

TEST(CsvReader, InvalidUtf8IsError) {
  auto message = error_of("a,b\nc,\xff\xfe\n");
  EXPECT_NE(message.find("sample.csv:2"), std::string::npos) << message;
  EXPECT_NE(message.find("UTF-8"), std::string::npos) << message;
}

TEST(CsvReader, MissingFileNamesPath) {
  try {
    tasks::read_csv("/nonexistent/mmlu/test/x_test.csv");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/mmlu/test/x_test.csv"), std::string::npos);
  }
}

TEST(CsvReader, ReadsEveryMmluFile) {
  // The released MMLU files: 57 subjects, 14042 test and 285 dev rows of six fields, some
  // with quoted line breaks and CRLF record ends.
  int64_t test_rows = 0;
  int64_t dev_rows = 0;
  int64_t files = 0;
  for (const char* split : {"test", "dev"}) {
    for (const auto& entry : std::filesystem::directory_iterator(testing::data_dir() / "tasks" / "mmlu" / split)) {
      auto records = tasks::read_csv(entry.path());
      for (const auto& record : records) {
        ASSERT_EQ(record.fields.size(), 6u) << entry.path() << ":" << record.line;
      }
      (std::string(split) == "test" ? test_rows : dev_rows) += static_cast<int64_t>(records.size());
      ++files;
    }
  }
  EXPECT_EQ(files, 114);
  EXPECT_EQ(test_rows, 14042);
  EXPECT_EQ(dev_rows, 285);
}

}  // namespace
}  // namespace dartquant
