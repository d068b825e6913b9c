// Tokenizer tests. Golden ids come from the shared data (outputs of SentencePiece and Hugging
// Face tokenizers), llama.cpp's DeepSeek test vectors and the WikiText-2 test stream of tok512.
// Small hand-written tokenizer.json files cover rules that the goldens do not reach. Error
// messages and the tokenize command are tested last.
#include <ATen/ATen.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "test_support.h"

namespace dartquant::tokenizer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Ids = std::vector<int64_t>;
using dartquant::testing::data_dir;
using dartquant::testing::make_temp_dir;
using dartquant::testing::model_dir;
using dartquant::testing::read_file;
using dartquant::testing::write_file;

Ids to_ids(const json& array) { return array.get<Ids>(); }

std::vector<json> read_jsonl(const fs::path& path) {
  std::vector<json> lines;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      lines.push_back(json::parse(line));
    }
  }
  return lines;
}

// Runs `body`, expects dartquant::Error, and returns its message.
template <typename Body>
std::string error_message(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected dartquant::Error";
  return "";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---------------------------------------------------------------------------
// Golden vectors of golden/tokenizers/*.jsonl.

struct GoldenCase {
  const char* jsonl;   // file under golden/tokenizers
  const char* folder;  // model folder under models
  const char* kind;
  int64_t bos;
  int64_t eos;
  int64_t vocab_size;
};

class TokenizerGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(TokenizerGoldenTest, EveryLineMatches) {
  const GoldenCase& golden = GetParam();
  const auto tok = load_tokenizer(model_dir(golden.folder));
  EXPECT_EQ(tok->kind(), golden.kind);
  EXPECT_EQ(tok->bos_id(), golden.bos);
  EXPECT_EQ(tok->eos_id(), golden.eos);
  EXPECT_EQ(tok->vocab_size(), golden.vocab_size);

  const auto lines = read_jsonl(data_dir() / "golden" / "tokenizers" / golden.jsonl);
  ASSERT_EQ(lines.size(), 70u);
  size_t pairs = 0;
  for (const auto& line : lines) {
    const std::string label = line.at("label").get<std::string>();
    SCOPED_TRACE(label + (line.at("add_bos").get<bool>() ? " (add_bos)" : ""));
    const std::string text = line.at("text").get<std::string>();
    if (line.at("add_bos").get<bool>()) {
      EXPECT_EQ(tok->encode_with_special_tokens(text), to_ids(line.at("ids")));
    } else {
      EXPECT_EQ(tok->encode(text), to_ids(line.at("ids")));
    }

    if (line.contains("context_ids")) {
      ++pairs;
      const std::string context = line.at("context").get<std::string>();
      const std::string continuation = line.at("continuation").get<std::string>();
      EXPECT_EQ(tok->encode(context), to_ids(line.at("context_ids")));
      EXPECT_EQ(tok->encode(continuation), to_ids(line.at("continuation_ids")));
      const EncodedPair pair = encode_pair(*tok, context, continuation);
      EXPECT_EQ(pair.continuation, to_ids(line.at("continuation_ids_lm_eval")));
    }
  }
  EXPECT_EQ(pairs, 7u);
}

INSTANTIATE_TEST_SUITE_P(
    TokenizerShared, TokenizerGoldenTest,
    ::testing::Values(GoldenCase{"llama2.jsonl", "llama2-tokenizer", "sentencepiece", 1, 2, 32000},
                      GoldenCase{"mixtral.jsonl", "mixtral-tokenizer", "sentencepiece", 1, 2, 32000},
                      GoldenCase{"stories260K-tok512.jsonl", "stories260K", "sentencepiece", 1, 2, 512},
                      GoldenCase{"deepseek-llm.jsonl", "deepseek-llm-tokenizer", "tokenizer.json", 100000, 100001,
                                 100015}),
    [](const ::testing::TestParamInfo<GoldenCase>& info) {
      std::string name = info.param.folder;
      for (char& c : name) {
        c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

TEST(TokenizerGolden, EncodePairMovesTrailingSpace) {
  // The trailing space of a context moves to the continuation, so both ways of splitting the
  // same text give the same tokens.
  const auto tok = load_tokenizer(model_dir("stories260K"));
  const EncodedPair spaced = encode_pair(*tok, "Look at the ", "window");
  const EncodedPair plain = encode_pair(*tok, "Look at the", " window");
  EXPECT_EQ(spaced.context, plain.context);
  EXPECT_EQ(spaced.continuation, plain.continuation);
  EXPECT_EQ(spaced.context, tok->encode("Look at the"));
}

// ---------------------------------------------------------------------------
// llama.cpp's tokenizer test vectors for deepseek-llm. Each input ends with
// "\n__ggml_vocab_test__\n", and the .out file has one line of " id id ..." per input.

TEST(TokenizerLlamaCpp, DeepSeekVectorsMatch) {
  const fs::path dir = model_dir("deepseek-llm-tokenizer");
  const std::string inputs = read_file(dir / "ggml-vocab-deepseek-llm.gguf.inp");
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t start = 0;
  for (size_t end = inputs.find(separator); end != std::string::npos; end = inputs.find(separator, start)) {
    texts.push_back(inputs.substr(start, end - start));
    start = end + separator.size();
  }
  EXPECT_EQ(start, inputs.size()) << "text after the last separator";

  std::vector<Ids> expected;
  std::istringstream out(read_file(dir / "ggml-vocab-deepseek-llm.gguf.out"));
  std::string line;
  while (std::getline(out, line)) {
    std::istringstream numbers(line);
    Ids ids;
    int64_t id = 0;
    while (numbers >> id) {
      ids.push_back(id);
    }
    expected.push_back(ids);
  }
  ASSERT_EQ(texts.size(), 46u);
  ASSERT_EQ(expected.size(), texts.size());

  const auto tok = load_tokenizer(dir);
  for (size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE("vector " + std::to_string(i) + ": " + texts[i].substr(0, 40));
    EXPECT_EQ(tok->encode(texts[i]), expected[i]);
  }
}

// ---------------------------------------------------------------------------
// Whole WikiText-2 test file.

// The int32 ids of a safetensors file with one I32 tensor.
Ids read_i32_safetensors(const fs::path& path) {
  const std::string bytes = read_file(path);
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), sizeof(header_size));
  const json header = json::parse(bytes.substr(8, header_size));
  const json& tensor = header.at("input_ids");
  EXPECT_EQ(tensor.at("dtype"), "I32");
  const auto begin = tensor.at("data_offsets").at(0).get<size_t>();
  const auto end = tensor.at("data_offsets").at(1).get<size_t>();
  Ids ids((end - begin) / 4);
  for (size_t i = 0; i < ids.size(); ++i) {
    int32_t id = 0;
    std::memcpy(&id, bytes.data() + 8 + header_size + begin + 4 * i, sizeof(id));
    ids[i] = id;
  }
  return ids;
}

// Python's str.strip() == "" for the ASCII whitespace that WikiText contains.
bool is_blank(const std::string& line) { return line.find_first_not_of(" \t\n\r\f\v") == std::string::npos; }

TEST(TokenizerWikiText, Tok512StreamMatches) {
  // The stream is [BOS] + encode("\n\n".join(rows)), rows = the lines with their "\n", and
  // whitespace-only lines replaced by "" (as in HF wikitext-2-raw-v1).
  const std::string raw = read_file(data_dir() / "wikitext-2-raw" / "wiki.test.raw");
  std::string joined;
  size_t start = 0;
  size_t rows = 0;
  while (start < raw.size()) {
    const size_t end = raw.find('\n', start);
    const std::string row = raw.substr(start, end == std::string::npos ? std::string::npos : end + 1 - start);
    if (rows++ > 0) {
      joined += "\n\n";
    }
    joined += is_blank(row) ? "" : row;
    start = end == std::string::npos ? raw.size() : end + 1;
  }
  EXPECT_EQ(rows, 4358u);

  const auto tok = load_tokenizer(model_dir("stories260K"));
  const auto begin = std::chrono::steady_clock::now();
  const Ids ids = tok->encode_with_special_tokens(joined);
  std::cout << "tok512 encoded " << joined.size() << " bytes into " << ids.size() << " ids in "
            << seconds_since(begin) << " s\n";

  const Ids expected = read_i32_safetensors(data_dir() / "eval-streams-tok512" / "wiki.test.raw.tok512.safetensors");
  ASSERT_EQ(expected.size(), 815066u);
  ASSERT_EQ(ids.size(), expected.size());
  EXPECT_TRUE(ids == expected);
}

TEST(TokenizerWikiText, WholeFileEncodes) {
  // Speed is measured in scripts/bench_tokenize.sh; this checks the whole file goes through.
  const std::string raw = read_file(data_dir() / "wikitext-2-raw" / "wiki.test.raw");
  for (const char* folder : {"llama2-tokenizer", "stories260K", "deepseek-llm-tokenizer"}) {
    const auto tok = load_tokenizer(model_dir(folder));
    const Ids ids = tok->encode(raw);
    EXPECT_GT(ids.size(), raw.size() / 8) << folder;
  }
}

TEST(TokenizerThreads, ConcurrentEncodeMatches) {
  // Encoding is const and shared: the BPE word cache and the SentencePiece processor must give
  // every thread the sequential result.
  const auto lines = read_jsonl(data_dir() / "golden" / "tokenizers" / "deepseek-llm.jsonl");
  for (const char* folder : {"deepseek-llm-tokenizer", "llama2-tokenizer"}) {
    SCOPED_TRACE(folder);
    const auto tok = load_tokenizer(model_dir(folder));
    std::vector<Ids> expected;
    for (const auto& line : lines) {
      expected.push_back(tok->encode(line.at("text").get<std::string>()));
    }

    constexpr int kThreads = 4;
    std::vector<int> mismatches(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 5; ++round) {
          for (size_t i = 0; i < lines.size(); ++i) {
            mismatches[t] += tok->encode(lines[i].at("text").get<std::string>()) != expected[i] ? 1 : 0;
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    for (int t = 0; t < kThreads; ++t) {
      EXPECT_EQ(mismatches[t], 0) << "thread " << t;
    }
  }
}

// ---------------------------------------------------------------------------
// libtorch and libsentencepiece in one process: their protobuf versions must not meet.

TEST(TokenizerSentencePiece, RunsBesideLibtorch) {
  const at::Tensor a = at::arange(6, at::kFloat).reshape({2, 3});
  const at::Tensor product = at::matmul(a, a.t());
  EXPECT_FLOAT_EQ(product[0][0].item<float>(), 5.0f);
  EXPECT_FLOAT_EQ(product[1][1].item<float>(), 50.0f);

  const auto tok = load_tokenizer(model_dir("llama2-tokenizer"));
  EXPECT_EQ(tok->encode(" = Robert Boulter = \n"), (Ids{29871, 353, 4755, 350, 5059, 357, 353, 29871, 13}));

  const at::Tensor again = at::matmul(a.t(), a);
  EXPECT_FLOAT_EQ(again[2][2].item<float>(), 29.0f);
}

TEST(TokenizerSentencePiece, ConfigControlsSpecialTokens) {
  const fs::path dir = make_temp_dir("dq-tok-config");
  fs::copy_file(model_dir("stories260K") / "tokenizer.model", dir / "tokenizer.model");

  write_file(dir / "tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true})");
  const auto tok = load_tokenizer(dir);
  const Ids body = tok->encode("Once upon a time");
  Ids with_eos = body;
  with_eos.push_back(2);
  EXPECT_EQ(tok->encode_with_special_tokens("Once upon a time"), with_eos);
  EXPECT_EQ(tok->source_file(), dir / "tokenizer.model");
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// Hand-written tokenizer.json files. Expected ids are derived by hand from the rules of
// Hugging Face tokenizers (Rust) and were checked once with its Python package 0.23.

// A tokenizer.json with a BPE model and no other component.
json bpe_document(const json& vocab, const json& merges) {
  return json{{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens", json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer", nullptr},
              {"post_processor", nullptr},
              {"decoder", nullptr},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"vocab", vocab},
                {"merges", merges}}}};
}

json added_token(int64_t id, const std::string& content, bool special) {
  return json{{"id", id},       {"content", content}, {"single_word", false}, {"lstrip", false},
              {"rstrip", false}, {"normalized", !special}, {"special", special}};
}

// Writes `document` as tokenizer.json (and `config` as tokenizer_config.json unless null)
// into a fresh folder and loads it.
class HandWrittenTokenizer {
 public:
  explicit HandWrittenTokenizer(const json& document, const json& config = nullptr)
      : dir_(make_temp_dir("dq-tok-json")) {
    write_file(dir_ / "tokenizer.json", document.dump(2));
    if (!config.is_null()) {
      write_file(dir_ / "tokenizer_config.json", config.dump(2));
    }
    tok_ = load_tokenizer(dir_);
  }
  ~HandWrittenTokenizer() { fs::remove_all(dir_); }

  const Tokenizer& operator*() const { return *tok_; }
  const Tokenizer* operator->() const { return tok_.get(); }

 private:
  fs::path dir_;
  std::unique_ptr<Tokenizer> tok_;
};

// A Llama-style vocabulary: <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF> (ids 3..258),
// then "▁" and the pieces of "hello world".
json llama_style_vocab() {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    vocab[name] = 3 + byte;
  }
  const char* pieces[] = {"▁", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "hell", "hello", "▁hello",
                          "▁w", "or", "▁wor", "ld", "▁world"};
  int64_t id = 259;
  for (const char* piece : pieces) {
    vocab[piece] = id++;
  }
  return vocab;
}

json llama_style_merges() {
  return json{"h e", "l l", "he ll", "hell o", "▁ hello", "▁ w", "o r", "▁w or", "l d", "▁wor ld"};
}

json llama_style_document(bool legacy) {
  json document = bpe_document(llama_style_vocab(), llama_style_merges());
  document["model"]["byte_fallback"] = true;
  document["model"]["fuse_unk"] = true;
  document["model"]["unk_token"] = "<unk>";
  document["added_tokens"] = {added_token(0, "<unk>", true), added_token(1, "<s>", true), added_token(2, "</s>", true)};
  if (legacy) {
    // transformers' LlamaConverter before legacy=false: prepend "▁", spaces become "▁".
    document["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "▁"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}}}};
  } else {
    document["pre_tokenizer"] = {
        {"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
  }
  document["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair", json::array()},
      {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  return document;
}

TEST(TokenizerJson, LegacyLlamaNormalizer) {
  const HandWrittenTokenizer tok(llama_style_document(/*legacy=*/true));
  // "▁hello▁world": the merges build "▁hello" and "▁world".
  EXPECT_EQ(tok->encode("hello world"), (Ids{271, 276}));
  // "i" and "\n" are not in the vocabulary: byte fallback gives <0x69> and <0x0A>.
  EXPECT_EQ(tok->encode("hi\n"), (Ids{259, 260, 3 + 0x69, 3 + 0x0A}));
  // "<s>" is a special added token matched in the raw text. The rest is normalized on its
  // own and gets its own "▁".
  EXPECT_EQ(tok->encode("<s>hello"), (Ids{1, 271}));
  EXPECT_EQ(tok->encode_with_special_tokens("hello"), (Ids{1, 271}));
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->vocab_size(), 277);
}

TEST(TokenizerJson, MetaspacePrependFirst) {
  const HandWrittenTokenizer tok(llama_style_document(/*legacy=*/false));
  EXPECT_EQ(tok->encode("hello world"), (Ids{271, 276}));
  // prepend_scheme "first": text after an added token gets no "▁".
  EXPECT_EQ(tok->encode("<s>hello"), (Ids{1, 270}));
  // A leading space is already a "▁", so none is added.
  EXPECT_EQ(tok->encode(" hello"), (Ids{271}));
  // "é" (C3 A9) falls back to two byte tokens.
  EXPECT_EQ(tok->encode("é"), (Ids{259, 3 + 0xC3, 3 + 0xA9}));
}

TEST(TokenizerJson, MetaspaceSplitAlways) {
  json document = llama_style_document(/*legacy=*/false);
  document["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"add_prefix_space", true}};
  const HandWrittenTokenizer tok(document);
  // Split before each "▁": "▁hello", "▁", "▁world".
  EXPECT_EQ(tok->encode("hello  world"), (Ids{271, 259, 276}));
  // add_prefix_space (old spelling of prepend_scheme "always") also applies after "<s>".
  EXPECT_EQ(tok->encode("<s>hello"), (Ids{1, 271}));
}

TEST(TokenizerJson, UnknownTokens) {
  const json vocab = {{"<unk>", 0}, {"a", 1}, {"b", 2}};
  json document = bpe_document(vocab, json::array());
  EXPECT_EQ(HandWrittenTokenizer(document)->encode("axyb"), (Ids{1, 2})) << "no unk_token: dropped";

  document["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(HandWrittenTokenizer(document)->encode("axyb"), (Ids{1, 0, 0, 2}));

  document["model"]["fuse_unk"] = true;
  EXPECT_EQ(HandWrittenTokenizer(document)->encode("axyb"), (Ids{1, 0, 2}));
}

// The GPT-2 byte-level alphabet, written out here from its rule so that the test does not
// use the code under test.
std::string byte_level_char(int byte) {
  const bool printable = (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
  int code_point = byte;
  if (!printable) {
    code_point = 0x100;
    for (int b = 0; b < byte; ++b) {
      const bool p = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      code_point += p ? 0 : 1;
    }
  }
  std::string utf8;
  if (code_point < 0x80) {
    utf8 += static_cast<char>(code_point);
  } else {
    utf8 += static_cast<char>(0xC0 | (code_point >> 6));
    utf8 += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return utf8;
}

TEST(TokenizerJson, ByteLevelWithGpt2Regex) {
  json vocab;
  for (int byte = 0; byte < 256; ++byte) {
    vocab[byte_level_char(byte)] = byte;
  }
  EXPECT_EQ(byte_level_char(' '), "Ġ");
  EXPECT_EQ(byte_level_char('\n'), "Ċ");
  vocab["Ġt"] = 256;
  vocab["he"] = 257;
  vocab["Ġthe"] = 258;
  // Merges as two-element arrays (the newer tokenizers format).
  json document =
      bpe_document(vocab, json::array({json::array({"Ġ", "t"}), json::array({"h", "e"}), json::array({"Ġt", "he"})}));
  document["pre_tokenizer"] = {
      {"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  const HandWrittenTokenizer tok(document);
  // " the", " cat", "'s", " 42" after the prefix space and the GPT-2 regex.
  EXPECT_EQ(tok->encode("the cat's 42"), (Ids{258, ' ', 'c', 'a', 't', '\'', 's', ' ', '4', '2'}));
  // "é" is the bytes C3 A9, each one vocabulary character.
  EXPECT_EQ(tok->encode("é"), (Ids{' ', 0xC3, 0xA9}));
}

// A vocabulary of single characters and a few multi-character pieces, with ignore_merges so
// that every pre-tokenized piece that is in the vocabulary comes out as one id.
json piece_document(const json& pre_tokenizer) {
  const json vocab = {{"a", 0},  {"b", 1},  {"-", 2},  {"a-", 3},  {"-b", 4},  {"--", 5}, {"1", 6},
                      {"2", 7},  {"½", 8},  {"12½", 9}, {" ", 10},  {",", 11},  {"\t", 12}, {"c", 13}};
  json document = bpe_document(vocab, json::array());
  document["model"]["ignore_merges"] = true;
  document["pre_tokenizer"] = pre_tokenizer;
  return document;
}

json split_pre_tokenizer(const std::string& behavior, bool invert) {
  return {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
}

TEST(TokenizerJson, SplitBehaviors) {
  struct Case {
    const char* behavior;
    bool invert;
    Ids expected;
  };
  const Case cases[] = {
      {"Isolated", false, {0, 2, 2, 1}},            // a - - b
      {"Removed", false, {0, 1}},                   // a b
      {"MergedWithPrevious", false, {3, 2, 1}},     // a- - b
      {"MergedWithNext", false, {0, 2, 4}},         // a - -b
      {"Contiguous", false, {0, 5, 1}},             // a -- b
      {"Removed", true, {2, 2}},                    // - -
      {"MergedWithPrevious", true, {0, 2, 4}},      // a - -b
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.behavior) + (c.invert ? " inverted" : ""));
    EXPECT_EQ(HandWrittenTokenizer(piece_document(split_pre_tokenizer(c.behavior, c.invert)))->encode("a--b"),
              c.expected);
  }

  const json regex_split = {
      {"type", "Split"}, {"pattern", {{"Regex", "-+"}}}, {"behavior", "Isolated"}, {"invert", false}};
  EXPECT_EQ(HandWrittenTokenizer(piece_document(regex_split))->encode("a--b"), (Ids{0, 5, 1}));
}

TEST(TokenizerJson, DigitsAreUnicodeNumbers) {
  const json individual = {{"type", "Digits"}, {"individual_digits", true}};
  EXPECT_EQ(HandWrittenTokenizer(piece_document(individual))->encode("a12½"), (Ids{0, 6, 7, 8}));
  const json grouped = {{"type", "Digits"}, {"individual_digits", false}};
  EXPECT_EQ(HandWrittenTokenizer(piece_document(grouped))->encode("a12½"), (Ids{0, 9}));
}

TEST(TokenizerJson, WhitespacePreTokenizers) {
  EXPECT_EQ(HandWrittenTokenizer(piece_document({{"type", "WhitespaceSplit"}}))->encode("a  b\tc"), (Ids{0, 1, 13}));
  EXPECT_EQ(HandWrittenTokenizer(piece_document({{"type", "Whitespace"}}))->encode("a, b"), (Ids{0, 11, 1}));
}

TEST(TokenizerJson, RegexEscapesFollowOniguruma) {
  // HF tokenizers compiles patterns with Oniguruma, whose \w includes marks (U+0301), whose
  // \s excludes U+180E, and whose \h is a hex digit. PCRE2 reads all three differently.
  // Oniguruma's \w also leaves out "²" inside a character class but not outside one.
  const json vocab = {{"a\u0301", 0}, {"b", 1},    {"a", 2},    {"\u0301", 3}, {"a\u180e" "b", 4},
                      {"c", 5},        {"xyz ", 6}, {"09af", 7}, {"²", 8},      {"a²b", 9}};
  auto document_with = [&](const json& pre_tokenizer) {
    json document = bpe_document(vocab, json::array());
    document["model"]["ignore_merges"] = true;
    document["pre_tokenizer"] = pre_tokenizer;
    return document;
  };
  auto split = [](const std::string& regex, const std::string& behavior) {
    return json{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", behavior}, {"invert", false}};
  };
  EXPECT_EQ(HandWrittenTokenizer(document_with({{"type", "Whitespace"}}))->encode("a\u0301 b"), (Ids{0, 1}));
  EXPECT_EQ(HandWrittenTokenizer(document_with(split("\\s+", "Removed")))->encode("a\u180e" "b c"), (Ids{4, 5}));
  EXPECT_EQ(HandWrittenTokenizer(document_with(split("[^\\S]+", "Removed")))->encode("a\u180e" "b c"), (Ids{4, 5}));
  EXPECT_EQ(HandWrittenTokenizer(document_with(split("\\h+", "Isolated")))->encode("xyz 09af"), (Ids{6, 7}));
  EXPECT_EQ(HandWrittenTokenizer(document_with(split("\\w+", "Isolated")))->encode("a²b"), (Ids{9}));
  EXPECT_EQ(HandWrittenTokenizer(document_with(split("[\\w]+", "Isolated")))->encode("a²b"), (Ids{2, 8, 1}));
}

TEST(TokenizerJson, AddedTokenFlags) {
  json document = piece_document(nullptr);
  json strip = added_token(20, "<m>", true);
  strip["lstrip"] = true;
  strip["rstrip"] = true;
  json word = added_token(21, "[a]", false);
  word["single_word"] = true;
  document["added_tokens"] = {strip, word};
  const HandWrittenTokenizer tok(document);
  // New added tokens get the ids after the 14 vocabulary entries, not their listed ids.
  EXPECT_EQ(tok->encode("a <m> b"), (Ids{0, 14, 1}));
  // The first "[a]" touches "b", so it is not a single word and stays text: "b", "[", ...
  // ("[" and "]" are not in the vocabulary and are dropped, since there is no unk_token).
  EXPECT_EQ(tok->encode("b[a] [a]"), (Ids{1, 0, 10, 15}));
  EXPECT_EQ(tok->vocab_size(), 16);
}

TEST(TokenizerJson, ContinuingSubwordPrefix) {
  json document = bpe_document({{"a", 0}, {"##b", 1}, {"ab", 2}, {"b", 3}}, json{"a ##b"});
  document["model"]["continuing_subword_prefix"] = "##";
  const HandWrittenTokenizer tok(document);
  EXPECT_EQ(tok->encode("ab"), (Ids{2}));
  EXPECT_EQ(tok->encode("ba"), (Ids{3}));  // "##a" is not in the vocabulary
}

TEST(TokenizerJson, MergesByRank) {
  // "abc": rank 0 is "b c", so "a bc" wins over "ab c" even though "a b" comes first in the text.
  const json vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"a_bc", 6}};
  EXPECT_EQ(HandWrittenTokenizer(bpe_document(vocab, json{"b c", "a b", "ab c"}))->encode("abc"), (Ids{0, 4}));
  EXPECT_EQ(HandWrittenTokenizer(bpe_document(vocab, json{"a b", "b c", "ab c"}))->encode("abc"), (Ids{5}));
  // Equal pairs merge leftmost first: "aaa" is "aa a".
  const json repeat_vocab = {{"a", 0}, {"aa", 1}};
  EXPECT_EQ(HandWrittenTokenizer(bpe_document(repeat_vocab, json{"a a"}))->encode("aaa"), (Ids{1, 0}));
}

TEST(TokenizerJson, ConfigOverridesPostProcessor) {
  json document = llama_style_document(/*legacy=*/false);
  const json config = {{"add_bos_token", false},
                       {"add_eos_token", true},
                       {"bos_token", "<s>"},
                       {"eos_token", {{"content", "</s>"}}}};
  const HandWrittenTokenizer tok(document, config);
  EXPECT_EQ(tok->encode_with_special_tokens("hello"), (Ids{271, 2}));
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
}

TEST(TokenizerJson, RejectsInvalidUtf8Text) {
  const auto tok = load_tokenizer(model_dir("deepseek-llm-tokenizer"));
  const std::string message = error_message([&] { tok->encode("ok \xC3\x28"); });
  EXPECT_NE(message.find("not valid UTF-8"), std::string::npos) << message;
  EXPECT_NE(message.find("byte 3"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------
// Malformed inputs: the message names the file and the problem.

class TokenizerErrorTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("dq-tok-error"); }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes tokenizer.json and returns the load error.
  std::string json_error(const std::string& content) {
    write_file(dir_ / "tokenizer.json", content);
    return error_message([&] { load_tokenizer(dir_); });
  }

  fs::path dir_;
};

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST_F(TokenizerErrorTest, MissingFolder) {
  const std::string message = error_message([&] { load_tokenizer(dir_ / "absent"); });
  EXPECT_CONTAINS(message, (dir_ / "absent").string());
  EXPECT_CONTAINS(message, "not found");
}

TEST_F(TokenizerErrorTest, FolderWithoutTokenizer) {
  const std::string message = error_message([&] { load_tokenizer(dir_); });
  EXPECT_CONTAINS(message, dir_.string());
  EXPECT_CONTAINS(message, "tokenizer.model");
  EXPECT_CONTAINS(message, "tokenizer.json");
}

TEST_F(TokenizerErrorTest, InvalidJson) {
  const std::string message = json_error("{\"model\": {\"type\": \"BPE\",");
  EXPECT_CONTAINS(message, (dir_ / "tokenizer.json").string());
  EXPECT_CONTAINS(message, "invalid JSON");
}

// nlohmann::json raises out_of_range, not parse_error, for a number beyond the range of a
// double; the same escape was found by fuzz/fuzz_config.cpp in config.json.
TEST_F(TokenizerErrorTest, NumberOverflow) {
  const std::string message = json_error("{\"model\": {\"type\": \"BPE\", \"dropout\": 1E999999}}");
  EXPECT_CONTAINS(message, (dir_ / "tokenizer.json").string());
  EXPECT_CONTAINS(message, "invalid JSON");
  EXPECT_CONTAINS(message, "number overflow");
}

TEST_F(TokenizerErrorTest, UnsupportedModelType) {
  for (const char* type : {"Unigram", "WordPiece", "WordLevel"}) {
    const std::string message = json_error(json{{"model", {{"type", type}, {"vocab", json::array()}}}}.dump());
    EXPECT_CONTAINS(message, (dir_ / "tokenizer.json").string());
    EXPECT_CONTAINS(message, std::string("model.type \"") + type + "\" is not supported (supported: BPE)");
  }
}

TEST_F(TokenizerErrorTest, UnicodeNormalizerNotImplemented) {
  json document = bpe_document({{"a", 0}}, json::array());
  document["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFKC"}}}}};
  const std::string message = json_error(document.dump());
  EXPECT_CONTAINS(message, (dir_ / "tokenizer.json").string());
  EXPECT_CONTAINS(message, "normalizer.normalizers[0].type \"NFKC\" is not supported");
}

TEST_F(TokenizerErrorTest, UnknownPreTokenizer) {
  json document = bpe_document({{"a", 0}}, json::array());
  document["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  const std::string message = json_error(document.dump());
  EXPECT_CONTAINS(message, "pre_tokenizer.type \"BertPreTokenizer\" is not supported");
  EXPECT_CONTAINS(message, "Metaspace");
}

TEST_F(TokenizerErrorTest, InvalidRegex) {
  json document = bpe_document({{"a", 0}}, json::array());
  document["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "[a-"}}}, {"behavior", "Isolated"}, {"invert", false}};
  const std::string message = json_error(document.dump());
  EXPECT_CONTAINS(message, "pre_tokenizer.pattern.Regex");
  EXPECT_CONTAINS(message, "invalid regular expression");
}

TEST_F(TokenizerErrorTest, MergeOutsideVocabulary) {
  const std::string message = json_error(bpe_document({{"a", 0}, {"b", 1}}, json{"a b"}).dump());
  EXPECT_CONTAINS(message, "model.merges[0]");
  EXPECT_CONTAINS(message, "\"ab\", which is not in model.vocab");
}

// Found by fuzz/fuzz_tokenizer_json.cpp: a template id past the vocabulary was returned by
// encode_with_special_tokens and would index past the embedding.
TEST_F(TokenizerErrorTest, PostProcessorIdOutsideVocabulary) {
  for (const int64_t id : {int64_t{100000}, int64_t{-1}}) {
    json document = bpe_document({{"a", 0}, {"<s>", 1}}, json::array());
    document["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", json::array()},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {id}}, {"tokens", {"<s>"}}}}}}};
    const std::string message = json_error(document.dump());
    EXPECT_CONTAINS(message, (dir_ / "tokenizer.json").string());
    EXPECT_CONTAINS(message, "post_processor");
    EXPECT_CONTAINS(message, "adds token id " + std::to_string(id) + ", outside the vocabulary of 2 ids");
  }
}

TEST_F(TokenizerErrorTest, CorruptSentencePieceModel) {
  const std::string real = read_file(model_dir("stories260K") / "tokenizer.model");
  for (const std::string& bytes : {std::string("this is not a protobuf"), real.substr(0, real.size() / 2)}) {
    write_file(dir_ / "tokenizer.model", bytes);
    const std::string message = error_message([&] { load_tokenizer(dir_); });
    EXPECT_CONTAINS(message, (dir_ / "tokenizer.model").string());
    EXPECT_CONTAINS(message, "not a valid SentencePiece model");
  }
}

// ---------------------------------------------------------------------------
// The tokenize command, in-process (stdout captured by gtest) and as a subprocess.

std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

int run_in_process(std::vector<std::string> args) {
  args.insert(args.begin(), "tokenize");
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  return cli::tokenize_command(static_cast<int>(argv.size()), argv.data());
}

TEST(TokenizerCommand, PrintsIdsInProcess) {
  const std::string model = model_dir("stories260K").string();
  ::testing::internal::CaptureStdout();
  const int code = run_in_process({"--model", model, "--text", "Hello world"});
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 0);
  const auto tok = load_tokenizer(model_dir("stories260K"));
  EXPECT_EQ(out, json(tok->encode_with_special_tokens("Hello world")).dump() + "\n");
}

TEST(TokenizerCommand, UsageErrorsInProcess) {
  const std::string model = model_dir("stories260K").string();
  EXPECT_THROW(run_in_process({"--text", "x"}), UsageError);
  EXPECT_THROW(run_in_process({"--model", model}), UsageError);
  EXPECT_THROW(run_in_process({"--model", model, "--text", "x", "--file", "y"}), UsageError);
  EXPECT_THROW(run_in_process({"--model", model, "--text", "x", "--bogus"}), UsageError);
  EXPECT_THROW(run_in_process({"--model", model, "--text", "x", "extra"}), UsageError);
}

TEST(TokenizerCommand, SubprocessOutputAndExitCodes) {
  const std::string model = model_dir("deepseek-llm-tokenizer").string();

  auto result = testing::run_cli("tokenize --model " + quote(model) + " --text 'Hello world'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[100000,17464,1843]\n");

  result = testing::run_cli("tokenize --no-bos --model " + quote(model) + " --text 'Hello world'");
  EXPECT_EQ(result.out, "[17464,1843]\n");

  // --file is read byte for byte: the trailing newline and CRLF are part of the text.
  const fs::path dir = make_temp_dir("dq-tok-cli");
  write_file(dir / "text.txt", "\n\n");
  const std::string file = quote((dir / "text.txt").string());
  result = testing::run_cli("tokenize --no-bos --model " + quote(model) + " --file " + file);
  EXPECT_EQ(result.out, "[185,185]\n");
  fs::remove_all(dir);

  result = testing::run_cli("tokenize --help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_CONTAINS(result.out, "--no-bos");

  result = testing::run_cli("tokenize --text x");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_CONTAINS(result.err, "--model");

  result = testing::run_cli("tokenize --model /nonexistent-dartquant-folder --text x");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_CONTAINS(result.err, "/nonexistent-dartquant-folder");
}

TEST(TokenizerCommand, PluginOverrideMustExist) {
  ::setenv("DARTQUANT_SENTENCEPIECE_PLUGIN", "/nonexistent/libdartquant_sentencepiece.so", 1);
  const auto result = testing::run_cli("tokenize --model " + quote(model_dir("stories260K").string()) + " --text x");
  ::unsetenv("DARTQUANT_SENTENCEPIECE_PLUGIN");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_CONTAINS(result.err, "DARTQUANT_SENTENCEPIECE_PLUGIN=/nonexistent/libdartquant_sentencepiece.so");
}

}  // namespace
}  // namespace dartquant::tokenizer
