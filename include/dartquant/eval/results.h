// Results files shaped like lm-evaluation-harness output: `results.<task>.<metric>`
// plus a `config` block that records every input needed to trace a number.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "dartquant/core/compute.h"
#include "dartquant/eval/perplexity.h"

namespace dartquant::eval {

/// The `config.model` block: path, type, and SHA-256 of config.json and each weight file.
nlohmann::json describe_model(const std::filesystem::path& model_dir);

/// A file's path and SHA-256.
nlohmann::json describe_file(const std::filesystem::path& path);

/// The metrics of one perplexity task.
nlohmann::json perplexity_metrics(const PerplexityResult& result);

/// Program name, version and the current UTC time.
nlohmann::json describe_program();

/// Writes `results` as indented JSON, atomically (no partial file on failure).
void write_results(const std::filesystem::path& path, const nlohmann::json& results);

}  // namespace dartquant::eval
