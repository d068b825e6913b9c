// Per-request records of a zero-shot run (`dartquant eval --log-samples FILE`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dartquant::tasks {

/// One scored request.
struct SampleRecord {
  std::string task;        ///< lm-eval task name ("mmlu_anatomy" for an MMLU subject)
  int64_t doc_index = 0;   ///< 0-based position among the task's items (lm-eval's doc_id)
  std::string doc_id;      ///< the dataset's id
  int64_t choice = 0;      ///< index of the request among the document's choices
  int64_t gold = 0;        ///< the correct choice
  std::string context;
  std::string continuation;
  int64_t context_tokens = 0;       ///< context tokens before truncation (BOS included when added)
  int64_t continuation_tokens = 0;
  int64_t truncated_tokens = 0;     ///< tokens dropped on the left to fit the maximum length
  double loglikelihood = 0;
  bool is_greedy = false;
};

nlohmann::json to_json(const SampleRecord& record);

/// Writes one JSON object per line, atomically (no partial file on failure).
void write_sample_log(const std::filesystem::path& path, const std::vector<SampleRecord>& records);

}  // namespace dartquant::tasks
