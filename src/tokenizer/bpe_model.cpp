#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <queue>
#include <tuple>

#include "dartquant/core/error.h"
#include "tokenizer/utf8.h"

namespace dartquant::tokenizer {
namespace {

// Words longer than kMaxCachedWordBytes are not cached, and the cache stops growing at
// kCacheCapacity words.
constexpr size_t kMaxCachedWordBytes = 256;
constexpr size_t kCacheCapacity = 100000;

// The byte-fallback token of a byte, "<0x0A>" for a newline (SentencePiece's spelling).
std::string byte_token(unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "<0x%02X>", byte);
  return buffer;
}

}  // namespace

BpeModel::BpeModel(const JsonNode& node) {
  if (const auto dropout = node.optional("dropout")) {
    if (!dropout->value().is_number() || dropout->value().get<double>() != 0.0) {
      dropout->fail("is " + dropout->value().dump() +
                    "; BPE dropout samples random tokenizations for training and is not supported, set it to null");
    }
  }
  fuse_unk_ = node.bool_or("fuse_unk", false);
  byte_fallback_ = node.bool_or("byte_fallback", false);
  ignore_merges_ = node.bool_or("ignore_merges", false);
  if (const auto prefix = node.optional("continuing_subword_prefix")) {
    continuing_subword_prefix_ = prefix->as_string();
  }
  if (const auto suffix = node.optional("end_of_word_suffix")) {
    end_of_word_suffix_ = suffix->as_string();
  }

  read_vocab(node["vocab"]);
  read_merges(node["merges"]);

  if (const auto unk = node.optional("unk_token")) {
    unk_token_ = unk->as_string();
    unk_id_ = token_to_id(*unk_token_);
    unk_where_ = unk->where();
  }
}

void BpeModel::read_vocab(const JsonNode& vocab) {
  if (!vocab.value().is_object()) {
    vocab.fail("must be an object of token: id pairs, got " + std::string(vocab.value().type_name()));
  }
  vocab_.reserve(vocab.value().size());
  for (const auto& [token, id_value] : vocab.value().items()) {
    if (!id_value.is_number_integer() || id_value.get<int64_t>() < 0 || id_value.get<int64_t>() > INT32_MAX) {
      vocab.fail("has token \"" + token + "\" with id " + id_value.dump() + "; ids must be integers in [0, 2^31)");
    }
    const int64_t id = id_value.get<int64_t>();
    vocab_.emplace(token, id);
    max_id_ = std::max(max_id_, id);
  }
}

void BpeModel::read_merges(const JsonNode& merges) {
  const size_t count = merges.array_size();
  merges_.reserve(count);
  for (size_t rank = 0; rank < count; ++rank) {
    const JsonNode entry = merges.at(rank);
    std::string left;
    std::string right;
    if (entry.value().is_string()) {
      // "a b": tokens never contain a plain space, so exactly one space separates them.
      const std::string text = entry.as_string();
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        entry.fail("is \"" + text + "\"; a merge must be two tokens separated by one space");
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else {
      if (!entry.value().is_array() || entry.array_size() != 2) {
        entry.fail("must be a string \"a b\" or an array [\"a\", \"b\"], got " + entry.value().dump());
      }
      left = entry.at(0).as_string();
      right = entry.at(1).as_string();
    }

    const auto left_id = token_to_id(left);
    const auto right_id = token_to_id(right);
    if (!left_id.has_value() || !right_id.has_value()) {
      entry.fail("uses \"" + (left_id.has_value() ? right : left) + "\", which is not in model.vocab");
    }

    // With a continuing-subword prefix the right token carries it, the merged token does not.
    const size_t prefix_length = continuing_subword_prefix_.size();
    if (right.size() < prefix_length) {
      entry.fail("has right token \"" + right + "\", shorter than continuing_subword_prefix");
    }
    const std::string merged = left + right.substr(prefix_length);
    const auto merged_id = token_to_id(merged);
    if (!merged_id.has_value()) {
      entry.fail("produces \"" + merged + "\", which is not in model.vocab");
    }
    // A repeated pair keeps its last rank, as a Rust HashMap built from the list does.
    merges_[pair_key(*left_id, *right_id)] = Merge{static_cast<int32_t>(rank), *merged_id};
  }
}

std::optional<int64_t> BpeModel::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

// HF tokenizers (Rust) BPE::merge_word, before merging: one symbol per character. A character
// missing from the vocabulary becomes its <0xXX> byte tokens with byte_fallback, else the
// unknown token (consecutive ones fused into one with fuse_unk), else nothing at all.
std::vector<int64_t> BpeModel::split_into_symbols(const std::string& word) const {
  std::vector<int64_t> symbols;
  symbols.reserve(word.size());
  std::optional<int64_t> pending_unk;

  size_t pos = 0;
  while (pos < word.size()) {
    const size_t length = utf8_length(static_cast<unsigned char>(word[pos]));
    std::string symbol = word.substr(pos, length);
    if (pos > 0) {
      symbol.insert(0, continuing_subword_prefix_);
    }
    pos += length;
    if (pos >= word.size()) {
      symbol += end_of_word_suffix_;
    }

    if (const auto id = token_to_id(symbol)) {
      if (pending_unk.has_value()) {
        symbols.push_back(*pending_unk);
        pending_unk.reset();
      }
      symbols.push_back(*id);
      continue;
    }

    if (byte_fallback_) {
      std::vector<int64_t> bytes;
      for (const char byte : symbol) {
        const auto id = token_to_id(byte_token(static_cast<unsigned char>(byte)));
        if (!id.has_value()) {
          break;
        }
        bytes.push_back(*id);
      }
      // Rust adds the byte tokens without first flushing a pending unknown token.
      if (bytes.size() == symbol.size()) {
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        continue;
      }
    }

    if (unk_token_.has_value()) {
      // Like Rust, fail only when a text needs the unknown token, not when loading.
      DQ_CHECK(unk_id_.has_value(), unk_where_, " \"", *unk_token_, "\" is not in model.vocab, so a character ",
               "outside the vocabulary cannot be encoded; add the token to the vocabulary");
      if (pending_unk.has_value() && !fuse_unk_) {
        symbols.push_back(*pending_unk);
      }
      pending_unk = unk_id_;
    }
  }
  if (pending_unk.has_value()) {
    symbols.push_back(*pending_unk);
  }
  return symbols;
}

// HF tokenizers (Rust) Word::merge_all: a min-heap of candidate merges ordered by (rank,
// position). A popped candidate is skipped when its left symbol was merged away or when the
// pair now at that position does not produce the same token.
void BpeModel::merge_symbols(std::vector<int64_t>& symbols) const {
  const size_t count = symbols.size();
  if (count < 2) {
    return;
  }
  std::vector<int64_t> next(count);
  std::vector<int64_t> previous(count);
  std::vector<bool> alive(count, true);
  for (size_t i = 0; i < count; ++i) {
    next[i] = i + 1 < count ? static_cast<int64_t>(i + 1) : -1;
    previous[i] = static_cast<int64_t>(i) - 1;
  }

  using Candidate = std::tuple<int32_t, int64_t, int64_t>;  // rank, position, merged id
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push_candidate = [&](int64_t left) {
    const auto it = merges_.find(pair_key(symbols[left], symbols[next[left]]));
    if (it != merges_.end()) {
      queue.emplace(it->second.rank, left, it->second.result);
    }
  };
  for (size_t i = 0; i + 1 < count; ++i) {
    push_candidate(static_cast<int64_t>(i));
  }

  while (!queue.empty()) {
    const auto [rank, left, result] = queue.top();
    queue.pop();
    if (!alive[left] || next[left] < 0) {
      continue;
    }
    const int64_t right = next[left];
    const auto it = merges_.find(pair_key(symbols[left], symbols[right]));
    if (it == merges_.end() || it->second.result != result) {
      continue;
    }

    symbols[left] = result;
    alive[right] = false;
    next[left] = next[right];
    if (next[right] >= 0) {
      previous[next[right]] = left;
    }

    if (previous[left] >= 0) {
      push_candidate(previous[left]);
    }
    if (next[left] >= 0) {
      push_candidate(left);
    }
  }

  size_t alive_count = 0;
  for (size_t i = 0; i < count; ++i) {
    if (alive[i]) {
      symbols[alive_count++] = symbols[i];
    }
  }
  symbols.resize(alive_count);
}

void BpeModel::tokenize(const std::string& word, std::vector<int64_t>& ids) const {
  if (word.empty()) {
    return;
  }
  if (ignore_merges_) {
    if (const auto id = token_to_id(word)) {
      ids.push_back(*id);
      return;
    }
  }

  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(word);
    if (it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }

  std::vector<int64_t> symbols = split_into_symbols(word);
  merge_symbols(symbols);
  ids.insert(ids.end(), symbols.begin(), symbols.end());

  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity) {
      cache_.emplace(word, std::move(symbols));
    }
  }
}

}  // namespace dartquant::tokenizer
