// Helpers shared by the subcommands: parsing with usage errors, and the
// options every model-running command has (device, dtype, threads, logging).
#pragma once

#include <optional>
#include <string>

#include <cxxopts.hpp>

#include "dartquant/core/compute.h"

namespace dartquant::cli {

/// Parses argv; an unknown flag or invalid value becomes a UsageError (exit 2).
/// Returns nullopt after printing the help text when --help was given.
std::optional<cxxopts::ParseResult> parse_options(cxxopts::Options& options, int argc, char** argv);

/// Adds --device, --dtype, --threads and --log-level.
void add_runtime_options(cxxopts::Options& options);

/// Applies --log-level and --threads and returns the parsed device and dtype.
ComputeOptions apply_runtime_options(const cxxopts::ParseResult& parsed);

/// The value of a required string option, or a UsageError naming it.
std::string required_string(const cxxopts::ParseResult& parsed, const std::string& name);

}  // namespace dartquant::cli
