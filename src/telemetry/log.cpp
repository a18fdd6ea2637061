#include "telemetry/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>

namespace uc::telemetry {

namespace {

struct LogState {
  std::mutex mutex;
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::info;
};

LogState& state() {
  static LogState s;
  return s;
}

spdlog::sink_ptr make_default_sink() {
  return std::make_shared<spdlog::sinks::stderr_sink_mt>();
}

void apply_format(const spdlog::sink_ptr& sink) {
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(kLogPattern, spdlog::pattern_time_type::utc));
}

}  // namespace

Result<spdlog::level::level_enum> parse_log_level(std::string_view level) {
  using spdlog::level::level_enum;
  if (level == "trace") return level_enum::trace;
  if (level == "debug") return level_enum::debug;
  if (level == "info") return level_enum::info;
  if (level == "warn" || level == "warning") return level_enum::warn;
  if (level == "error") return level_enum::err;
  if (level == "critical") return level_enum::critical;
  if (level == "off") return level_enum::off;
  return invalid_argument("unknown log level '" + std::string(level) +
                          "': expected trace, debug, info, warn, error, critical or off");
}

Status init_logging(std::string_view level, spdlog::sink_ptr sink) {
  auto parsed = parse_log_level(level);
  if (!parsed) return parsed.status();
  if (!sink) sink = make_default_sink();
  apply_format(sink);

  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.sink = sink;
  s.level = *parsed;
  spdlog::drop_all();
  auto def = std::make_shared<spdlog::logger>("uc", sink);
  def->set_level(s.level);
  def->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(def);
  return Status::ok();
}

std::shared_ptr<spdlog::logger> get_logger(std::string_view component) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  if (!s.sink) {
    s.sink = make_default_sink();
    apply_format(s.sink);
  }
  auto logger = std::make_shared<spdlog::logger>(name, s.sink);
  logger->set_level(s.level);
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

std::string kv_escape(std::string_view value) {
  bool needs_quotes = value.empty();
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || u < 0x20 || u == 0x7f) {
      needs_quotes = true;
      break;
    }
  }
  if (!needs_quotes) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\x{:02x}", u);
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ---- RateLimitedLog ----

RateLimitedLog::RateLimitedLog(const Clock& clock, std::size_t max_per_interval, std::chrono::microseconds interval)
    : clock_(clock), max_per_interval_(max_per_interval), interval_us_(interval.count()) {}

std::optional<std::uint64_t> RateLimitedLog::admit(std::string_view key) {
  const std::int64_t now = clock_.steady_us();
  std::lock_guard lock(mutex_);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= next_prune_at_) prune_locked(now);
    it = windows_.emplace(std::string(key), Window{now, 0, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start_us >= interval_us_) {
    w.start_us = now;
    w.count = 0;
  }
  if (w.count < max_per_interval_) {
    ++w.count;
    std::uint64_t reported = w.suppressed;
    w.suppressed = 0;
    return reported;
  }
  ++w.suppressed;
  ++suppressed_total_;
  return std::nullopt;
}

std::uint64_t RateLimitedLog::suppressed_total() const {
  std::lock_guard lock(mutex_);
  return suppressed_total_;
}

void RateLimitedLog::prune_locked(std::int64_t now_us) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (it->second.suppressed == 0 && now_us - it->second.start_us >= interval_us_) {
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
  // Amortized: when most keys are live, wait for the map to double again.
  next_prune_at_ = std::max(kPruneThreshold, windows_.size() * 2);
}

}  // namespace uc::telemetry
