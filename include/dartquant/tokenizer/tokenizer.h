// Tokenizers of model folders: SentencePiece (tokenizer.model) and Hugging Face
// tokenizers (tokenizer.json, BPE models), plus lm-eval's context/continuation split.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dartquant::tokenizer {

/// A text-to-ids tokenizer. Implementations are immutable after loading, and their
/// methods may be called from several threads at once.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// Encodes text with no special tokens (no BOS/EOS). `text` is UTF-8, and the
  /// tokenizer.json kind throws dartquant::Error on invalid UTF-8.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;

  /// Encodes text and adds special tokens as the folder's configuration specifies (BOS for
  /// Llama/DeepSeek).
  virtual std::vector<int64_t> encode_with_special_tokens(const std::string& text) const = 0;

  /// Id of the beginning-of-sequence token, if the tokenizer has one.
  virtual std::optional<int64_t> bos_id() const = 0;

  /// Id of the end-of-sequence token, if the tokenizer has one.
  virtual std::optional<int64_t> eos_id() const = 0;

  /// Number of ids: the largest id the tokenizer can produce plus one.
  virtual int64_t vocab_size() const = 0;

  /// "sentencepiece" or "tokenizer.json".
  virtual std::string kind() const = 0;

  /// The file loaded (tokenizer.model or tokenizer.json), for hashing in results.
  virtual std::filesystem::path source_file() const = 0;
};

/// Settings of a Hugging Face tokenizer_config.json that change how text is encoded.
/// Unset fields mean the key is absent or null.
struct TokenizerConfig {
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  std::optional<std::string> bos_token;  ///< token text, e.g. "<s>"
  std::optional<std::string> eos_token;  ///< token text, e.g. "</s>"
};

/// Reads tokenizer_config.json. bos_token/eos_token may be strings or AddedToken objects
/// ({"content": ...}). Throws dartquant::Error naming the file and key on invalid JSON or
/// wrongly typed values. A missing file is an error too, so check before calling.
TokenizerConfig read_tokenizer_config(const std::filesystem::path& path);

/// Loads a SentencePiece model through the libdartquant_sentencepiece.so module, which is
/// searched at $DARTQUANT_SENTENCEPIECE_PLUGIN (a full path), then in the folder of the running
/// executable, then in the build folder. encode_with_special_tokens adds BOS unless
/// `config.add_bos_token` is false, and EOS when `config.add_eos_token` is true. The ids of BOS
/// and EOS come from the model.
std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file,
                                              const TokenizerConfig& config = {});

/// Loads a Hugging Face tokenizer.json with a BPE model. When `config` sets add_bos_token or
/// add_eos_token, encode_with_special_tokens adds exactly those tokens (as transformers'
/// LlamaTokenizerFast does). Otherwise it applies the file's post_processor.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::filesystem::path& json_file,
                                             const TokenizerConfig& config = {});

/// Loads the tokenizer of a model folder: tokenizer.model (SentencePiece) when present, else
/// tokenizer.json. A folder with only one of those files works. tokenizer_config.json (optional)
/// gives add_bos_token/add_eos_token and bos/eos tokens.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir);

/// Token ids of an lm-eval request, split at the context/continuation boundary.
struct EncodedPair {
  std::vector<int64_t> context;
  std::vector<int64_t> continuation;
};

/// lm-eval 0.4.x `_encode_pair`: trailing whitespace of context (Python str.isspace) moves to
/// the continuation, then whole = encode(context+continuation), context_ids = encode(context),
/// continuation = whole[len(context_ids):]. Uses encode(), so no special tokens. An empty
/// context is the caller's case: lm-eval does not call `_encode_pair` then, but uses
/// [BOS, or EOS when there is no BOS] as context and encode(continuation) as continuation.
EncodedPair encode_pair(const Tokenizer& tok, const std::string& context, const std::string& continuation);

}  // namespace dartquant::tokenizer
