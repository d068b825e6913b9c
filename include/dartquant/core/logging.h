// Logging policy: spdlog to stderr; results go to stdout only.
#pragma once

#include <string>

namespace dartquant {

/// Sends the default spdlog logger to stderr at `level` (trace, debug, info,
/// warn, error, off). Throws UsageError for an unknown level.
void configure_logging(const std::string& level);

}  // namespace dartquant
