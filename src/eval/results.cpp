#include "dartquant/eval/results.h"

#include <ctime>

#include "dartquant/core/error.h"
#include "dartquant/core/hash.h"
#include "dartquant/io/atomic_file.h"
#include "dartquant/io/checkpoint.h"
#include "dartquant/model/config.h"

namespace dartquant::eval {

nlohmann::json describe_file(const std::filesystem::path& path) {
  return {{"path", std::filesystem::absolute(path).lexically_normal().string()}, {"sha256", sha256_file(path)}};
}

nlohmann::json describe_model(const std::filesystem::path& model_dir) {
  auto config = model::ModelConfig::load(model_dir);
  nlohmann::json weights = nlohmann::json::object();
  for (const auto& file : io::Checkpoint::open(model_dir).files()) {
    weights[file.filename().string()] = sha256_file(file);
  }
  return {
      {"path", std::filesystem::absolute(model_dir).lexically_normal().string()},
      {"model_type", config.model_type},
      {"torch_dtype", config.torch_dtype},
      {"config_sha256", sha256_file(model_dir / "config.json")},
      {"weights_sha256", weights},
  };
}

nlohmann::json perplexity_metrics(const PerplexityResult& result) {
  return {
      {"ppl", result.perplexity},
      {"ppl_stderr", result.perplexity_stderr},
      {"nll", result.mean_nll},
      {"nll_stderr", result.nll_stderr},
      {"windows", result.windows},
      {"predicted_tokens", result.predicted_tokens},
      {"stream_tokens", result.stream_tokens},
      {"seconds", result.seconds},
      {"tokens_per_second", result.tokens_per_second},
  };
}

nlohmann::json describe_program() {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"program", "dartquant"}, {"version", DARTQUANT_VERSION}, {"date", stamp}};
}

void write_results(const std::filesystem::path& path, const nlohmann::json& results) {
  io::write_file_atomically(path, results.dump(2) + "\n");
}

}  // namespace dartquant::eval
