#include "dartquant/eval/text_corpus.h"

#include <fstream>
#include <sstream>

#include "dartquant/core/error.h"
#include "dartquant/core/hash.h"

namespace dartquant::eval {
namespace {

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

}  // namespace

std::string read_text_file(const std::filesystem::path& path) {
  DQ_CHECK(std::filesystem::is_regular_file(path), path.string(), ": text file not found");
  std::ifstream in(path, std::ios::binary);
  DQ_CHECK(in.good(), path.string(), ": cannot be opened for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string wikitext_text(const std::filesystem::path& raw_file) {
  std::string raw = read_text_file(raw_file);
  DQ_CHECK(!raw.empty(), raw_file.string(), ": file is empty; expected the WikiText-2 raw test split");

  std::string text;
  text.reserve(raw.size() + raw.size() / 8);
  size_t start = 0;
  bool first = true;
  while (start < raw.size()) {
    size_t newline = raw.find('\n', start);
    size_t end = newline == std::string::npos ? raw.size() : newline + 1;
    std::string row = raw.substr(start, end - start);
    if (!first) {
      text += "\n\n";
    }
    first = false;
    if (!is_blank(row)) {
      text += row;
    }
    start = end;
  }
  return text;
}

std::vector<int64_t> token_stream(const tokenizer::Tokenizer& tokenizer, const std::string& text) {
  std::vector<int64_t> stream;
  if (auto bos = tokenizer.bos_id()) {
    stream.push_back(*bos);
  }
  auto ids = tokenizer.encode(text);
  stream.insert(stream.end(), ids.begin(), ids.end());
  return stream;
}

std::string stream_sha256(const std::vector<int64_t>& stream) {
  std::vector<int32_t> narrow(stream.begin(), stream.end());
  return sha256_hex(narrow.data(), narrow.size() * sizeof(int32_t));
}

}  // namespace dartquant::eval
