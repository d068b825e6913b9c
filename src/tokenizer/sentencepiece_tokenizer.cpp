// SentencePiece tokenizer (tokenizer.model), encoded by libsentencepiece through the
// dartquant_sentencepiece module.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "tokenizer/file_bytes.h"
#include "tokenizer/sentencepiece_library.h"

namespace dartquant::tokenizer {
namespace {

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(std::filesystem::path path, const SentencePieceLibrary& library, void* processor,
                         const TokenizerConfig& config)
      : path_(std::move(path)), library_(library), processor_(processor) {
    bos_id_ = optional_id(library_.bos_id(processor_));
    eos_id_ = optional_id(library_.eos_id(processor_));
    vocab_size_ = library_.piece_count(processor_);

    // transformers' LlamaTokenizer defaults: add BOS, no EOS.
    add_bos_ = config.add_bos_token.value_or(true);
    add_eos_ = config.add_eos_token.value_or(false);
    DQ_CHECK(!add_bos_ || bos_id_.has_value(), path_.string(),
             ": tokenizer_config.json asks for add_bos_token but the SentencePiece model has no BOS "
             "piece; set add_bos_token to false");
    DQ_CHECK(!add_eos_ || eos_id_.has_value(), path_.string(),
             ": tokenizer_config.json asks for add_eos_token but the SentencePiece model has no EOS "
             "piece; set add_eos_token to false");
  }

  ~SentencePieceTokenizer() override { library_.free(processor_); }

  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int64_t> encode(const std::string& text) const override {
    // One id per input byte plus the dummy prefix is enough unless normalization expands the
    // text. Then encode_into reports the true count and the call is repeated.
    std::vector<int32_t> ids(text.size() + 16);
    int64_t count = encode_into(text, ids);
    if (count > static_cast<int64_t>(ids.size())) {
      ids.resize(static_cast<size_t>(count));
      count = encode_into(text, ids);
    }
    return std::vector<int64_t>(ids.begin(), ids.begin() + count);
  }

  std::vector<int64_t> encode_with_special_tokens(const std::string& text) const override {
    std::vector<int64_t> ids;
    if (add_bos_) {
      ids.push_back(*bos_id_);
    }
    const auto body = encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    if (add_eos_) {
      ids.push_back(*eos_id_);
    }
    return ids;
  }

  std::optional<int64_t> bos_id() const override { return bos_id_; }
  std::optional<int64_t> eos_id() const override { return eos_id_; }
  int64_t vocab_size() const override { return vocab_size_; }
  std::string kind() const override { return "sentencepiece"; }
  std::filesystem::path source_file() const override { return path_; }

 private:
  static std::optional<int64_t> optional_id(int32_t id) {
    return id >= 0 ? std::optional<int64_t>(id) : std::nullopt;
  }

  int64_t encode_into(const std::string& text, std::vector<int32_t>& ids) const {
    const int64_t count = library_.encode(processor_, text.data(), text.size(), ids.data(), ids.size());
    DQ_CHECK(count >= 0, path_.string(), ": SentencePiece failed to encode a text of ", text.size(),
             " bytes: ", library_.last_error());
    return count;
  }

  std::filesystem::path path_;
  const SentencePieceLibrary& library_;
  void* processor_;
  std::optional<int64_t> bos_id_;
  std::optional<int64_t> eos_id_;
  int64_t vocab_size_ = 0;
  bool add_bos_ = true;
  bool add_eos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file,
                                              const TokenizerConfig& config) {
  const std::string bytes = read_file_bytes(model_file);
  const SentencePieceLibrary& library = sentencepiece_library();

  void* processor = library.load(bytes.data(), bytes.size());
  DQ_CHECK(processor != nullptr, model_file.string(), ": not a valid SentencePiece model (",
           library.last_error(), "). The file is corrupt or truncated; copy tokenizer.model again from the "
           "model's original files");

  std::unique_ptr<Tokenizer> tokenizer;
  try {
    tokenizer = std::make_unique<SentencePieceTokenizer>(model_file, library, processor, config);
  } catch (...) {
    library.free(processor);
    throw;
  }
  spdlog::debug("loaded SentencePiece tokenizer {} ({} pieces)", model_file.string(), tokenizer->vocab_size());
  return tokenizer;
}

}  // namespace dartquant::tokenizer
