// The assembled connector: config → sources, normalizers, lanes (queue + sink),
// metrics and the HTTP API. Built in two steps (build validates and opens nothing,
// start opens), as every component is.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "pipeline/pipeline.h"
#include "telemetry/metrics.h"

namespace uc::api {
class ApiServer;
}

namespace uc::sinks::zerobus {
class ZerobusSink;
class TokenProvider;
}  // namespace uc::sinks::zerobus

namespace uc::app {

struct ConnectorOptions {
  bool start_api = true;
  bool file_sink = true;    // false: ignore sinks.file (used by `read`)
  bool stdout_sink = false; // true: add a stdout lane per target (used by `read`)
  std::vector<std::string> only_sources;  // empty: every enabled source
  bool use_spool = true;    // false: memory only, no spool and no DLQ (used by `read`)
};

class Connector {
 public:
  static Result<std::unique_ptr<Connector>> build(const config::Config& cfg, const ConnectorOptions& options);
  ~Connector();

  Status start();
  // Graceful: stop sources, deliver what is queued (bounded by drain_timeout), close sinks.
  void stop(std::chrono::milliseconds drain_timeout);

  nlohmann::json status() const;
  const pipeline::Pipeline& pipeline() const { return *pipeline_; }
  pipeline::Pipeline& pipeline() { return *pipeline_; }
  telemetry::MetricsRegistry& metrics() { return metrics_; }
  int api_port() const;

 private:
  Connector(const config::Config& cfg);
  void bind_metrics();
  Status add_dlq_routes();
  Status add_zerobus_routes();
  nlohmann::json zerobus_status() const;

  config::Config cfg_;
  telemetry::MetricsRegistry metrics_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<api::ApiServer> api_;
  std::vector<std::string> unavailable_;
  std::shared_ptr<sinks::zerobus::TokenProvider> zerobus_tokens_;
  std::vector<sinks::zerobus::ZerobusSink*> zerobus_sinks_;  // owned by their lanes
  std::int64_t started_at_us_ = 0;
};

// Target (table) name of each source: zerobus.source_targets, else the default target.
std::string target_for_source(const config::Config& cfg, const std::string& source);
std::string default_target(const config::Config& cfg);

}  // namespace uc::app
