// The sources of a running connector, added, changed, started, stopped and removed while
// the rest runs (SPEC §4, issue 14): the api::SourceControl behind the /api/sources routes,
// and the one path by which any source, from the file or the API, gets into the pipeline.
//
// A body is checked by config::Loader::load_source with every protocol of the source table
// registered: the code, and the messages, that check the YAML file. Changes are serialized
// by one lock and applied to the pipeline first, then to the RunningConfig, so GET shows
// what runs. Targets are fixed at start: a source whose target has no lane is refused.
// Changes through the API are saved in the managed file (ManagedSources, ADR 0008) when
// persist_to() was given one; every answer says whether it was saved ("saved"). A reload
// (apply_sources) changes only the sources that differ and saves nothing: it came from
// the files. Limits: a PUT cannot change the protocol (delete and add instead); DELETE
// with spool=drain waits at most kDrainTimeout, holding the lock.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/source_routes.h"
#include "app/managed_sources.h"
#include "app/running_config.h"
#include "config/loader.h"
#include "normalize/normalizer.h"
#include "pipeline/pipeline.h"
#include "telemetry/metrics.h"

namespace uc::app {

class LiveSources final : public api::SourceControl {
 public:
  static constexpr std::chrono::seconds kDrainTimeout{30};

  // All must outlive this object. Validates the normalization options (INVALID_ARGUMENT).
  static Result<std::unique_ptr<LiveSources>> create(RunningConfig& config, pipeline::Pipeline& pipeline,
                                                     telemetry::MetricsRegistry& metrics);

  // At build time: puts a configured, enabled source into the pipeline; one this build
  // cannot run is skipped (it is listed among the unavailable features).
  Status add_configured(const config::SourceConfig& source);
  // Metrics of sources added from now on are bound at once (after bind_metrics).
  void bind_new_sources_metrics() { bind_metrics_ = true; }
  // Refuses changes from now on (the connector is stopping): UNAVAILABLE.
  void close();
  // Saves every later change through `managed` (must outlive this object).
  void persist_to(ManagedSources* managed) { managed_ = managed; }
  // A reload: makes the running sources those of `wanted` (the files' sources, in order),
  // touching only the sources that differ: new ones are added, missing ones removed (their
  // spooled records stay and are delivered), changed ones replaced (a protocol change is a
  // remove and an add). JSON {added, changed, removed, unchanged, failed:[{name, error}]}.
  Result<nlohmann::json> apply_sources(const std::vector<config::SourceConfig>& wanted);

  std::vector<nlohmann::json> list() const override;
  std::optional<nlohmann::json> get(const std::string& name) const override;
  Change add(const std::string& entry) override;
  Change replace(const std::string& name, const std::string& entry) override;
  Result<nlohmann::json> remove(const std::string& name, SpoolMode spool) override;
  Result<nlohmann::json> start(const std::string& name) override;
  Result<nlohmann::json> stop(const std::string& name) override;
  // A one-shot read (app/source_probe.h), without the change lock: a test never waits for
  // a change, nor a change for a test.
  Change test(const std::string& name, const TestLimits& limits) override;
  Change test_entry(const std::string& entry, const TestLimits& limits) override;

 private:
  LiveSources(RunningConfig& config, pipeline::Pipeline& pipeline, telemetry::MetricsRegistry& metrics);
  struct Built {
    std::unique_ptr<pipeline::Source> source;
    std::unique_ptr<normalize::Normalizer> normalizer;
  };
  Result<Built> build(const config::SourceConfig& source) const;
  Status put_in_pipeline(const config::SourceConfig& source);
  Status apply_replacement(const config::SourceConfig& source);
  // The body checked by the loader: the source, or its field errors.
  std::optional<config::SourceConfig> parse(const std::string& entry, Change& change) const;
  bool in_pipeline(const std::string& name) const;
  Status check_open(const std::string& name, bool must_exist) const;
  nlohmann::json view(const config::SourceConfig& source, const nlohmann::json& status) const;
  void note_saved(nlohmann::json& view, const Status& saved) const;
  Status reload_one(const config::SourceConfig* current, const config::SourceConfig& wanted);
  std::optional<nlohmann::json> view_of(const std::string& name) const;

  RunningConfig& config_;
  pipeline::Pipeline& pipeline_;
  telemetry::MetricsRegistry& metrics_;
  config::Loader loader_;
  normalize::Options norm_;
  std::shared_ptr<normalize::PathRegistry> paths_ = std::make_shared<normalize::PathRegistry>();
  std::mutex mu_;  // serializes changes
  bool closed_ = false;
  bool bind_metrics_ = false;
  ManagedSources* managed_ = nullptr;
};

}  // namespace uc::app
