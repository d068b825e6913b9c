// Hugging Face tokenizer.json with a BPE model. The pipeline follows HF tokenizers (Rust)
// Tokenizer::encode: added tokens are cut out of the raw text first (those with
// normalized=false), each remaining part is normalized and cut at the normalized added
// tokens, then pre-tokenized into words that the BPE model encodes one by one.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/file_bytes.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

void check_model_type(const JsonNode& model) {
  // tokenizers infers BPE for a model object without "type" that has merges.
  const std::string type = model.has("type") ? model.type() : (model.has("merges") ? "BPE" : "");
  if (type.empty()) {
    model.fail("has no \"type\" (supported: BPE)");
  }
  if (type != "BPE") {
    model["type"].fail("\"" + type + "\" is not supported (supported: BPE)");
  }
}

// Ids follow HF tokenizers (Rust) AddedVocabulary::add_tokens, not the "id" fields. A token in
// the model vocabulary keeps its id there. A new one gets, in list order, the next id after the
// vocabulary (counted in entries) or after the last added id, whichever is larger.
std::vector<AddedToken> read_added_tokens(const JsonNode& root, const BpeModel& model) {
  std::vector<AddedToken> tokens;
  const auto list = root.optional("added_tokens");
  if (!list.has_value()) {
    return tokens;
  }

  int64_t max_added_id = -1;
  for (size_t i = 0; i < list->array_size(); ++i) {
    const JsonNode entry = list->at(i);
    AddedToken token;
    token.content = entry["content"].as_string();
    token.special = entry.bool_or("special", false);
    token.single_word = entry.bool_or("single_word", false);
    token.lstrip = entry.bool_or("lstrip", false);
    token.rstrip = entry.bool_or("rstrip", false);
    token.normalized = entry.bool_or("normalized", !token.special);

    const auto same = std::find_if(tokens.begin(), tokens.end(),
                                   [&](const AddedToken& other) { return other.content == token.content; });
    if (same != tokens.end()) {
      token.id = same->id;
    } else if (const auto id = model.token_to_id(token.content)) {
      token.id = *id;
    } else {
      token.id = max_added_id >= model.vocab_count() ? max_added_id + 1 : model.vocab_count();
    }
    const int64_t listed_id = entry["id"].as_int();
    if (listed_id != token.id) {
      spdlog::warn("{}: added token \"{}\" is listed with id {} but gets id {}, as Hugging Face tokenizers "
                   "assigns it; check that the file matches the model's embedding rows",
                   entry.where(), token.content, listed_id, token.id);
    }
    max_added_id = std::max(max_added_id, token.id);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

class HfTokenizer : public Tokenizer {
 public:
  HfTokenizer(std::filesystem::path path, const nlohmann::json& document, const TokenizerConfig& config)
      : path_(std::move(path)) {
    const JsonNode root(document, path_.string(), "");
    if (!document.is_object()) {
      root.fail("must be a JSON object with a \"model\" member");
    }

    const JsonNode model = root["model"];
    check_model_type(model);
    model_ = std::make_unique<BpeModel>(model);
    if (const auto normalizer = root.optional("normalizer")) {
      normalizer_ = parse_normalizer(*normalizer);
    }
    if (const auto pre_tokenizer = root.optional("pre_tokenizer")) {
      pre_tokenizer_ = parse_pre_tokenizer(*pre_tokenizer);
    }
    if (const auto post_processor = root.optional("post_processor")) {
      post_processor_ = parse_post_processor(*post_processor);
    }
    added_ = std::make_unique<AddedVocabulary>(read_added_tokens(root, *model_), normalizer_.get());
    vocab_size_ = std::max(model_->max_id(), added_->max_id()) + 1;
    check_post_processor_ids(root);

    configure_special_tokens(config);
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    const auto invalid = find_invalid_utf8(text);
    DQ_CHECK(!invalid.has_value(), path_.string(), ": cannot encode a text that is not valid UTF-8 (invalid byte ",
             invalid.value_or(0), " of ", text.size(), "); decode or clean the input first");

    std::vector<int64_t> ids;
    for (const auto& segment : added_->split(text, /*normalized=*/false)) {
      if (segment.token_id.has_value()) {
        ids.push_back(*segment.token_id);
        continue;
      }
      if (segment.end > segment.begin) {
        std::string part = text.substr(segment.begin, segment.end - segment.begin);
        encode_part(std::move(part), segment.begin == 0, ids);
      }
    }
    return ids;
  }

  std::vector<int64_t> encode_with_special_tokens(const std::string& text) const override {
    std::vector<int64_t> ids = encode(text);
    if (!use_config_special_tokens_) {
      return post_processor_ != nullptr ? post_processor_->process(std::move(ids)) : ids;
    }
    if (add_bos_) {
      ids.insert(ids.begin(), *bos_id_);
    }
    if (add_eos_) {
      ids.push_back(*eos_id_);
    }
    return ids;
  }

  std::optional<int64_t> bos_id() const override { return bos_id_; }
  std::optional<int64_t> eos_id() const override { return eos_id_; }
  int64_t vocab_size() const override { return vocab_size_; }
  std::string kind() const override { return "tokenizer.json"; }
  std::filesystem::path source_file() const override { return path_; }

 private:
  // The post-processor adds the ids written in its special_tokens map, and nothing else ties them
  // to the vocabulary. An id outside [0, vocab_size) would index past the embedding, so such a
  // file is rejected at load.
  void check_post_processor_ids(const JsonNode& root) const {
    if (post_processor_ == nullptr) {
      return;
    }
    for (const int64_t id : post_processor_->process({})) {
      if (id < 0 || id >= vocab_size_) {
        root["post_processor"].fail(str("adds token id ", id, ", outside the vocabulary of ", vocab_size_,
                                        " ids (model.vocab and added_tokens); the special_tokens ids must be ",
                                        "those of the model's tokens"));
      }
    }
  }

  // Normalizes a part of the text between raw added tokens and encodes it.
  void encode_part(std::string part, bool at_start, std::vector<int64_t>& ids) const {
    if (normalizer_ != nullptr) {
      normalizer_->normalize(part);
    }
    for (const auto& segment : added_->split(part, /*normalized=*/true)) {
      if (segment.token_id.has_value()) {
        ids.push_back(*segment.token_id);
        continue;
      }
      if (segment.end == segment.begin) {
        continue;
      }
      std::vector<Piece> pieces{
          {part.substr(segment.begin, segment.end - segment.begin), at_start && segment.begin == 0}};
      if (pre_tokenizer_ != nullptr) {
        pre_tokenizer_->pre_tokenize(pieces);
      }
      for (const auto& piece : pieces) {
        model_->tokenize(piece.text, ids);
      }
    }
  }

  std::string config_path() const { return (path_.parent_path() / "tokenizer_config.json").string(); }

  std::optional<int64_t> resolve_token(const std::string& content, const char* key) const {
    if (auto id = added_->find(content)) {
      return id;
    }
    if (auto id = model_->token_to_id(content)) {
      return id;
    }
    throw Error(str(config_path(), ": ", key, " \"", content,
                    "\" is neither an added token nor in the vocabulary of ", path_.string()));
  }

  // BOS/EOS come from tokenizer_config.json when it names them. Otherwise BOS is the token
  // that the post-processor puts before the text.
  void configure_special_tokens(const TokenizerConfig& config) {
    if (config.bos_token.has_value()) {
      bos_id_ = resolve_token(*config.bos_token, "bos_token");
    } else if (post_processor_ != nullptr) {
      bos_id_ = post_processor_->leading_token();
    }
    if (config.eos_token.has_value()) {
      eos_id_ = resolve_token(*config.eos_token, "eos_token");
    }

    // transformers' LlamaTokenizerFast rebuilds the post-processor from add_bos_token and
    // add_eos_token. A missing one of the two keeps what the file's post-processor does.
    use_config_special_tokens_ = config.add_bos_token.has_value() || config.add_eos_token.has_value();
    if (!use_config_special_tokens_) {
      return;
    }
    const bool file_adds_bos = post_processor_ != nullptr && post_processor_->leading_token().has_value();
    add_bos_ = config.add_bos_token.value_or(file_adds_bos);
    add_eos_ = config.add_eos_token.value_or(false);
    DQ_CHECK(!add_bos_ || bos_id_.has_value(), config_path(),
             ": add_bos_token is true but no bos_token is set; add \"bos_token\" or set add_bos_token to false");
    DQ_CHECK(!add_eos_ || eos_id_.has_value(), config_path(),
             ": add_eos_token is true but no eos_token is set; add \"eos_token\" or set add_eos_token to false");
  }

  std::filesystem::path path_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<AddedVocabulary> added_;
  int64_t vocab_size_ = 0;
  std::optional<int64_t> bos_id_;
  std::optional<int64_t> eos_id_;
  bool use_config_special_tokens_ = false;
  bool add_bos_ = false;
  bool add_eos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::filesystem::path& json_file, const TokenizerConfig& config) {
  const std::string bytes = read_file_bytes(json_file);
  // nlohmann::json keeps string bytes as they are. That matters because the DeepSeek regex has
  // code points that Unicode normalization would change (U+2126 OHM SIGN becomes U+03A9).
  const nlohmann::json document = JsonNode::parse(bytes, json_file.string());
  auto tokenizer = std::make_unique<HfTokenizer>(json_file, document, config);
  spdlog::debug("loaded tokenizer.json {} ({} ids)", json_file.string(), tokenizer->vocab_size());
  return tokenizer;
}

}  // namespace dartquant::tokenizer
