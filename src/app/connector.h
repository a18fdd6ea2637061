// The assembled connector: config → sources (from the source table), normalizers, one lane
// per target × sink kind (from the sink table), metrics and the HTTP API. Built in two steps
// (build validates and opens nothing, start opens), as every component is. The connector
// only wires: each module translates its own config (from_config / options_from), owns its
// counters and their /api/status and /metrics forms, and api/ owns the routes. The running
// configuration lives in one RunningConfig; sources get into the pipeline (at build and at
// run time, through the API) only by LiveSources.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/live_sources.h"
#include "app/live_zerobus.h"
#include "app/managed_sources.h"
#include "app/running_config.h"
#include "config/config.h"
#include "core/clock.h"
#include "pipeline/pipeline.h"
#include "pipeline/registration.h"
#include "telemetry/metrics.h"

namespace uc::api {
class ApiServer;
}

namespace uc::app {

struct ConnectorOptions {
  bool start_api = true;
  std::optional<std::vector<std::string>> sinks;  // sink kinds to use; unset: those the config enables
  std::vector<std::string> only_sources;          // empty: every enabled source
  bool use_spool = true;  // false: memory only, no spool and no DLQ (used by `read`)
  // The file the config came from (set by `run`): API changes are saved beside it
  // (ManagedSources), and reload() re-reads it. Empty: nothing saved, no reload.
  std::string config_path;
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

  // SIGHUP and POST /api/config/reload: re-reads the file (and the managed file) and
  // applies the difference in sources (LiveSources::apply_sources). A file with errors
  // changes nothing. JSON {"ok": true, added, changed, removed, unchanged, failed,
  // restart_required: [sections that differ from what runs], notes} or {"ok": false,
  // "errors": ["file:line:col: key: message", ...]}. Serialized; any thread.
  nlohmann::json reload();

 private:
  // A sink kind of the table with its set (null when the kind is not used).
  struct SinkKind {
    const pipeline::SinkRegistration* registration;
    std::unique_ptr<pipeline::SinkSet> set;
  };

  explicit Connector(const config::Config& cfg);
  Status add_sources(const config::Config& cfg, const ConnectorOptions& options);
  Status add_lanes(const config::Config& cfg, const ConnectorOptions& options);
  Status add_api(const config::Config& cfg);
  Status add_persistence(const std::string& config_path);

  RunningConfig config_;
  std::string api_host_;
  telemetry::MetricsRegistry metrics_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<LiveSources> live_sources_;
  std::string config_path_;
  std::unique_ptr<ManagedSources> managed_;
  std::unique_ptr<LiveZerobus> live_zerobus_;
  std::map<std::string, std::string> sections_;  // the file's top-level sections (not sources) as run
  std::mutex reload_mu_;
  std::vector<SinkKind> sinks_;
  std::unique_ptr<api::ApiServer> api_;
  std::vector<std::string> unavailable_;
  std::int64_t started_at_us_ = 0;
};

}  // namespace uc::app
