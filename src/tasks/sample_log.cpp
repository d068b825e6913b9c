#include "dartquant/tasks/sample_log.h"

#include "dartquant/io/atomic_file.h"

namespace dartquant::tasks {

nlohmann::json to_json(const SampleRecord& record) {
  return {
      {"task", record.task},
      {"doc_index", record.doc_index},
      {"doc_id", record.doc_id},
      {"choice", record.choice},
      {"gold", record.gold},
      {"loglikelihood", record.loglikelihood},
      {"is_greedy", record.is_greedy},
      {"context_tokens", record.context_tokens},
      {"continuation_tokens", record.continuation_tokens},
      {"truncated_tokens", record.truncated_tokens},
      {"context", record.context},
      {"continuation", record.continuation},
  };
}

void write_sample_log(const std::filesystem::path& path, const std::vector<SampleRecord>& records) {
  io::AtomicFile file(path);
  std::string line;
  for (const auto& record : records) {
    line = to_json(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    file.write(line);
  }
  file.commit();
}

}  // namespace dartquant::tasks
