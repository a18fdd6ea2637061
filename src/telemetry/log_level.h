// The log levels of `connector.log_level`. Its own header (no link dependency) so that
// config/ parses into it; init_logging() takes its to_string().
#pragma once

#include <cstdint>

namespace uc::telemetry {

enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kWarn, kError };

inline const char* to_string(LogLevel v) {
  switch (v) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace uc::telemetry
