// Choosing and configuring the tokenizer of a model folder.
#include <string>

#include "dartquant/core/error.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "tokenizer/file_bytes.h"
#include "tokenizer/json_node.h"

namespace dartquant::tokenizer {
namespace {

namespace fs = std::filesystem;

std::optional<bool> optional_bool(const JsonNode& root, const char* key) {
  const auto node = root.optional(key);
  return node.has_value() ? std::optional<bool>(node->as_bool()) : std::nullopt;
}

// transformers writes special tokens as plain strings or as AddedToken objects.
std::optional<std::string> optional_token(const JsonNode& root, const char* key) {
  const auto node = root.optional(key);
  if (!node.has_value()) {
    return std::nullopt;
  }
  if (node->value().is_object()) {
    return (*node)["content"].as_string();
  }
  return node->as_string();
}

}  // namespace

TokenizerConfig read_tokenizer_config(const fs::path& path) {
  const std::string bytes = read_file_bytes(path);
  const nlohmann::json document = JsonNode::parse(bytes, path.string());
  const JsonNode root(document, path.string(), "");
  if (!document.is_object()) {
    root.fail("must be a JSON object");
  }

  TokenizerConfig config;
  config.add_bos_token = optional_bool(root, "add_bos_token");
  config.add_eos_token = optional_bool(root, "add_eos_token");
  config.bos_token = optional_token(root, "bos_token");
  config.eos_token = optional_token(root, "eos_token");
  return config;
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& dir) {
  std::error_code error;
  DQ_CHECK(fs::exists(dir, error), dir.string(), ": model folder not found");
  DQ_CHECK(fs::is_directory(dir, error), dir.string(),
           ": not a folder; pass the model folder that contains tokenizer.model or tokenizer.json");

  TokenizerConfig config;
  const fs::path config_file = dir / "tokenizer_config.json";
  if (fs::exists(config_file, error)) {
    config = read_tokenizer_config(config_file);
  }

  // The SentencePiece model is preferred: it is the slow tokenizer that lm-eval is given for
  // Llama-family models, and it collapses repeated spaces where the fast one does not.
  const fs::path sentencepiece_file = dir / "tokenizer.model";
  if (fs::exists(sentencepiece_file, error)) {
    return load_sentencepiece(sentencepiece_file, config);
  }
  const fs::path json_file = dir / "tokenizer.json";
  if (fs::exists(json_file, error)) {
    return load_hf_tokenizer(json_file, config);
  }
  throw Error(str(dir.string(), ": no tokenizer found (expected tokenizer.model for SentencePiece or ",
                  "tokenizer.json for Hugging Face tokenizers); copy the model's tokenizer files into this folder"));
}

}  // namespace dartquant::tokenizer
