#include "pipeline/lane_config.h"

#include <filesystem>

#include "buffer/config.h"

namespace uc::pipeline {

std::string lane_directory(const std::string& base, const std::string& target, const std::string& sink,
                           bool several_sinks) {
  std::string name;
  for (char ch : target) name += (ch == '/' || ch == '\0') ? '_' : ch;
  if (several_sinks) name += "." + sink;
  return (std::filesystem::path(base) / name).string();
}

LaneOptions lane_options_from(const config::BackpressureConfig& bp, const config::BatchConfig& batch,
                              const LanePlace& place) {
  LaneOptions o;
  o.target = place.target;
  o.capacity = static_cast<std::size_t>(bp.max_queue_size);
  o.policy = bp.drop_policy;
  o.batch.max_records = static_cast<std::size_t>(batch.max_records);
  o.batch.max_bytes = static_cast<std::size_t>(batch.max_bytes);
  o.batch.linger = std::chrono::milliseconds(batch.linger_ms);
  o.retry_initial = std::chrono::milliseconds(bp.retry.initial_ms);
  o.retry_max = std::chrono::milliseconds(bp.retry.max_ms);
  o.breaker.failure_threshold = static_cast<std::uint32_t>(bp.circuit_breaker.failure_threshold);
  o.breaker.open_duration = std::chrono::seconds(bp.circuit_breaker.open_s);
  if (!place.use_spool) return o;  // no spool, no DLQ
  if (bp.disk_spool.enabled) {
    o.spool = buffer::spool_options_from(
        bp.disk_spool, lane_directory(bp.disk_spool.directory, place.target, place.sink, place.several_sinks));
  }
  o.dlq_directory = place.several_sinks ? lane_directory(bp.dlq.directory, place.target, place.sink, true)
                                        : bp.dlq.directory;
  return o;
}

}  // namespace uc::pipeline
