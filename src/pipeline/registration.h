// How a source or sink folder presents itself to app/'s tables (house rule 2): adding a
// protocol is its folder plus one line in app/registry.cpp. The tables are explicit lists;
// nothing registers itself statically (that silently breaks with static libraries).
//
// A source folder exposes a SourceRegistration: its protocol name, its options parser
// (config::SourceParser contract, loader.h) and its builder. A sink folder exposes a
// SinkRegistration, whose create() makes the kind's SinkSet once from the config; the set
// then builds one Sink per target and owns what the kind's sinks share (a token provider),
// its metric families and its diagnostics.
//
// Builders and create() validate and open nothing (house rule 4); they run on the control
// thread. Errors are values: kUnimplemented when this build cannot run a configuration
// that the parser accepted (reported as an unavailable feature, not a failure).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/reader.h"
#include "core/status.h"
#include "pipeline/sink.h"
#include "pipeline/source.h"
#include "telemetry/metrics.h"

namespace uc::pipeline {

struct SourceRegistration {
  std::string_view protocol;  // the `protocol:` value in the config
  // Parses the protocol's keys of one `sources:` entry (config::SourceParser contract).
  std::shared_ptr<const config::SourceOptions> (*parse)(const config::Reader& node, config::Errors& errors);
  // The runtime object of one configured source (whose options came from parse).
  Result<std::unique_ptr<Source>> (*build)(const config::SourceConfig& source);
  // Whether this build can run the source: kUnimplemented with the reason when not.
  // Null: every configuration the parser accepts can run.
  Status (*check)(const config::SourceConfig& source) = nullptr;
  // The options for a one-shot read beside the running source (POST /api/sources/{name}/
  // test): a second connection must not take over or disturb the first (an MQTT client id
  // is unique per broker). Null: the same options serve.
  std::shared_ptr<const config::SourceOptions> (*probe_options)(const config::SourceOptions& options) = nullptr;
};

// Adapts a builder over the protocol's own options type: make(name, options). Options
// that are missing or of another type are an internal error (the parser makes them).
template <typename Options, typename Make>
Result<std::unique_ptr<Source>> build_with(const config::SourceConfig& source, Make make) {
  const auto* options = dynamic_cast<const Options*>(source.options.get());
  if (options == nullptr) return internal_error("source " + source.name + ": " + source.protocol + " options missing");
  return std::unique_ptr<Source>(make(source.name, *options));
}

// The sinks of one kind (file, stdout, zerobus) for every target.
class SinkSet {
 public:
  virtual ~SinkSet() = default;
  // The sink of one target (a table name for Zerobus); validated, nothing opened.
  virtual Result<std::unique_ptr<Sink>> build(const std::string& target) = 0;
  // Batch limits of this kind's lanes.
  virtual const config::BatchConfig& batch() const = 0;
  // Registers the kind's own metric families, read from its own counters. Called once,
  // after every build(); the sinks must outlive the registry's scrapes.
  virtual void bind_metrics(telemetry::MetricsRegistry& registry) const { (void)registry; }
  // Per-target checks of GET /api/<kind>/diagnostics: a JSON array with one object per
  // target (each with a boolean "ok"); every target when `target` is empty; kNotFound when
  // no target has that name. Any thread.
  virtual Result<nlohmann::json> diagnose(const std::string& target) const {
    (void)target;
    return Status(StatusCode::kUnimplemented, "no diagnostics");
  }
};

struct SinkRegistration {
  std::string_view name;         // the lanes' `sink` label, and the kind's key in /api/status
  std::string_view enabled_key;  // the config key that enables it, for messages
  bool (*enabled)(const config::Config& cfg);
  Result<std::unique_ptr<SinkSet>> (*create)(const config::Config& cfg);
  // The kind's section of /api/status, also when it is not enabled (set is null then), so
  // the document keeps its shape. Null: the kind has no section.
  nlohmann::json (*status)(const config::Config& cfg, const SinkSet* set) = nullptr;
  // Whether the kind answers GET /api/<name>/diagnostics (409 while not enabled).
  bool has_diagnostics = false;
};

}  // namespace uc::pipeline
