// The BPE model of tokenizer.json: vocabulary, ranked merges and the rules for characters
// that are not in the vocabulary.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_node.h"

namespace dartquant::tokenizer {

/// Byte-pair encoding as Hugging Face tokenizers (Rust) applies it to one pre-tokenized word.
/// It starts from the word's characters and repeatedly merges the adjacent pair with the lowest
/// merge rank, the leftmost one among equal ranks, until no pair of the merge list is left.
class BpeModel {
 public:
  /// Reads the "model" object of tokenizer.json (type BPE). Merges may be "a b" strings or
  /// ["a", "b"] arrays. Throws dartquant::Error naming the field for anything invalid or
  /// unsupported (dropout, tokens of merges missing from the vocabulary).
  explicit BpeModel(const JsonNode& node);

  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  /// Appends the ids of `word` to `ids`. Thread-safe. Results are cached per word.
  void tokenize(const std::string& word, std::vector<int64_t>& ids) const;

  /// Id of a vocabulary entry.
  std::optional<int64_t> token_to_id(const std::string& token) const;

  /// Number of vocabulary entries.
  int64_t vocab_count() const { return static_cast<int64_t>(vocab_.size()); }

  /// Largest id in the vocabulary, -1 when it is empty.
  int64_t max_id() const { return max_id_; }

 private:
  struct Merge {
    int32_t rank;    // position in the merge list, lower merges first
    int64_t result;  // id of the merged token
  };

  void read_vocab(const JsonNode& vocab);
  void read_merges(const JsonNode& merges);
  std::vector<int64_t> split_into_symbols(const std::string& word) const;
  void merge_symbols(std::vector<int64_t>& symbols) const;

  static uint64_t pair_key(int64_t left, int64_t right) {
    return (static_cast<uint64_t>(left) << 32) | static_cast<uint64_t>(right);
  }

  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  int64_t max_id_ = -1;
  std::optional<std::string> unk_token_;
  std::optional<int64_t> unk_id_;  // unset also when unk_token_ is missing from the vocabulary
  std::string unk_where_;          // file and field of unk_token, for errors
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace dartquant::tokenizer
