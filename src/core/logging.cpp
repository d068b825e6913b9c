#include "dartquant/core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "dartquant/core/error.h"

namespace dartquant {

void configure_logging(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  // spdlog maps unknown names to "off"; only the literal "off" may mean that.
  if (parsed == spdlog::level::off && level != "off") {
    throw UsageError(str("--log-level ", level, ": invalid level; use trace, debug, info, warn, error or off"));
  }
  auto logger = spdlog::get("dartquant");
  if (!logger) {
    logger = spdlog::stderr_color_mt("dartquant");
  }
  logger->set_pattern("%^[%H:%M:%S %l]%$ %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
}

}  // namespace dartquant
