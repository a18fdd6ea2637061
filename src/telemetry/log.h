// Logging setup and helpers on spdlog.
//
// One line per event on stderr, UTC ISO-8601 time, level, component, message,
// with context as key=value pairs at the end:
//   2024-05-01T10:00:00.123Z warning [modbus] read failed device=plc1 unit=3 error="timed out"
// init_logging() is called once at startup, before components ask for loggers;
// get_logger() is thread-safe and returns the same logger for the same component.
#pragma once

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace uc::telemetry {

inline constexpr const char* kLogPattern = "%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v";

// "trace", "debug", "info", "warn" (or "warning"), "error", "critical", "off".
Result<spdlog::level::level_enum> parse_log_level(std::string_view level);

// Sets the level and the pattern and sends every logger to `sink` (stderr when
// null). Returns INVALID_ARGUMENT for an unknown level and changes nothing then.
// Loggers obtained before a later call keep writing to the old sink.
Status init_logging(std::string_view level, spdlog::sink_ptr sink = nullptr);

// The logger of one component ("opcua", "api", ...).
std::shared_ptr<spdlog::logger> get_logger(std::string_view component);

// `key=value`; the value is quoted (with \" \\ \n escapes) when it is empty or
// holds a space, quote, '=' or control character, so lines stay splittable.
std::string kv_escape(std::string_view value);
template <typename T>
std::string kv(std::string_view key, const T& value) {
  return fmt::format("{}={}", key, kv_escape(fmt::format("{}", value)));
}

// Lets at most `max_per_interval` messages per key through in each interval
// (fixed windows, per key, on the injected clock's steady time). Suppressed
// messages are counted and reported on the next message that gets through:
// "... (suppressed K similar messages)". Thread-safe.
class RateLimitedLog {
 public:
  RateLimitedLog(const Clock& clock, std::size_t max_per_interval, std::chrono::microseconds interval);

  // When a message under `key` may be logged now, the number of messages
  // suppressed under that key since the last one logged; otherwise nullopt.
  std::optional<std::uint64_t> admit(std::string_view key);

  // Logs through `logger` if admitted. Returns whether it was.
  template <typename... Args>
  bool log(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view key,
           fmt::format_string<Args...> format, Args&&... args) {
    if (!logger.should_log(level)) return false;
    auto suppressed = admit(key);
    if (!suppressed) return false;
    std::string msg = fmt::format(format, std::forward<Args>(args)...);
    if (*suppressed > 0) msg += fmt::format(" (suppressed {} similar messages)", *suppressed);
    logger.log(level, "{}", msg);
    return true;
  }

  std::uint64_t suppressed_total() const;

 private:
  struct Window {
    std::int64_t start_us = 0;
    std::size_t count = 0;
    std::uint64_t suppressed = 0;
  };
  // Keys come from code, not data, but a long-running process should not
  // grow without bound: idle keys with nothing to report are pruned.
  static constexpr std::size_t kPruneThreshold = 4096;
  void prune_locked(std::int64_t now_us);
  std::size_t next_prune_at_ = kPruneThreshold;

  const Clock& clock_;
  const std::size_t max_per_interval_;
  const std::int64_t interval_us_;
  mutable std::mutex mutex_;
  std::map<std::string, Window, std::less<>> windows_;
  std::uint64_t suppressed_total_ = 0;
};

}  // namespace uc::telemetry
