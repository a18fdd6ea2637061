#include "app/connector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "api/api_server.h"
#include "api/connector_routes.h"
#include "app/components.h"
#include "app/registry.h"
#include "normalize/config.h"
#include "pipeline/lane_config.h"
#include "pipeline/metrics.h"
#include "pipeline/router.h"

namespace uc::app {
namespace {

bool wanted(const std::vector<std::string>& only, const std::string& name) {
  return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

}  // namespace

Connector::Connector(const config::Config& cfg) : cfg_(cfg) {}

Connector::~Connector() {
  if (api_) api_->stop();
}

Result<std::unique_ptr<Connector>> Connector::build(const config::Config& cfg, const ConnectorOptions& options) {
  std::unique_ptr<Connector> c(new Connector(cfg));
  c->pipeline_ = std::make_unique<pipeline::Pipeline>(SystemClock::instance());
  c->unavailable_ = unavailable_features(cfg);
  if (cfg.web_ui.enabled && cfg.web_ui.tls.enabled && options.start_api) {
    return Status(StatusCode::kUnimplemented,
                  "web_ui.tls is not available yet in this build; set web_ui.tls.enabled: false");
  }
  // Lanes first: a source is added with the lanes of its target.
  if (Status s = c->add_lanes(options); !s.is_ok()) return s;
  if (Status s = c->add_sources(options); !s.is_ok()) return s;
  if (options.start_api && cfg.web_ui.enabled) {
    if (Status s = c->add_api(); !s.is_ok()) return s;
  }
  pipeline::bind_metrics(*c->pipeline_, c->metrics_);
  for (const auto& kind : c->sinks_) {
    if (kind.set) kind.set->bind_metrics(c->metrics_);
  }
  return c;
}

// One lane per target in use × sink kind in use. The targets are those of the enabled
// sources (the default target when there are none).
Status Connector::add_lanes(const ConnectorOptions& options) {
  const auto router = pipeline::Router::from_config(cfg_);
  std::set<std::string> targets;
  for (const auto& s : cfg_.sources) {
    if (s.enabled && wanted(options.only_sources, s.name) && check_source(s).is_ok()) {
      targets.insert(router.target_for(s.name));
    }
  }
  if (targets.empty()) targets.insert(router.default_target());

  std::string keys;
  for (const auto& r : sink_table()) {
    keys += (keys.empty() ? "" : ", ") + std::string(r.enabled_key);
    const bool use = options.sinks ? wanted(*options.sinks, std::string(r.name)) && !options.sinks->empty()
                                   : r.enabled(cfg_);
    SinkKind kind{&r, nullptr};
    if (use) {
      auto set = r.create(cfg_);
      if (!set.is_ok()) return set.status();
      kind.set = std::move(set).value();
    }
    sinks_.push_back(std::move(kind));
  }
  const auto used = std::count_if(sinks_.begin(), sinks_.end(), [](const SinkKind& k) { return k.set != nullptr; });
  if (used == 0) return Status(StatusCode::kFailedPrecondition, "no sink is enabled (" + keys + " are all false)");
  for (const auto& t : targets) {
    for (auto& kind : sinks_) {
      if (!kind.set) continue;
      auto sink = kind.set->build(t);
      if (!sink.is_ok()) return sink.status();
      const pipeline::LanePlace place{t, std::string(kind.registration->name), used > 1, options.use_spool};
      Status s = pipeline_->add_lane(pipeline::lane_options_from(cfg_.backpressure, kind.set->batch(), place),
                                     std::move(sink).value());
      if (!s.is_ok()) return s;
    }
  }
  return Status::ok();
}

Status Connector::add_sources(const ConnectorOptions& options) {
  const normalize::Options norm = normalize::options_from(cfg_);
  if (Status s = normalize::validate_options(norm); !s.is_ok()) return Status(s.code(), "normalization: " + s.message());
  auto registry = std::make_shared<normalize::PathRegistry>();
  const auto router = pipeline::Router::from_config(cfg_);
  for (const auto& s : cfg_.sources) {
    if (!s.enabled || !wanted(options.only_sources, s.name)) continue;
    auto source = build_source(s);
    if (!source.is_ok()) {
      if (source.status().code() == StatusCode::kUnimplemented) continue;  // listed in unavailable_
      return source.status();
    }
    auto normalizer = normalize::Normalizer::create(norm, normalize::source_info_from(s), registry);
    if (!normalizer.is_ok()) {
      return Status(normalizer.status().code(), "source " + s.name + ": " + normalizer.status().message());
    }
    Status added = pipeline_->add_source(std::move(source).value(), std::move(normalizer).value(),
                                         {router.target_for(s.name)}, s.protocol,
                                         pipeline::runtime_options_from(s));
    if (!added.is_ok()) return added;
  }
  return Status::ok();
}

Status Connector::add_api() {
  if (!api::is_loopback_host(cfg_.web_ui.host) && cfg_.web_ui.auth_token.value.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "web_ui.host " + cfg_.web_ui.host + " is not loopback and web_ui.auth_token is not available");
  }
  api::ApiServer::Options ao;
  ao.host = cfg_.web_ui.host;
  ao.port = cfg_.web_ui.port;
  ao.auth_token = cfg_.web_ui.auth_token.value;
  api::ApiServer::Providers providers;
  providers.status = [this] { return status(); };
  // Liveness: the process serves. Readiness: it can do its job (docs/observability.md).
  providers.health = [this] {
    return nlohmann::json{{"status", "ok"},
                          {"uptime_s", (SystemClock::instance().now_us() - started_at_us_) / 1'000'000}};
  };
  providers.ready = [this] {
    const auto reasons = pipeline_->unready_reasons();
    return nlohmann::json{{"status", reasons.empty() ? "ok" : "unavailable"}, {"reasons", reasons}};
  };
  providers.metrics = &metrics_;
  api_ = std::make_unique<api::ApiServer>(ao, providers);
  api::ConnectorView view{pipeline_.get(), {}};
  for (const auto& kind : sinks_) {
    view.sinks.push_back({std::string(kind.registration->name), kind.set.get(), kind.registration->has_diagnostics});
  }
  return api::add_connector_routes(*api_, view);
}

Status Connector::start() {
  started_at_us_ = SystemClock::instance().now_us();
  for (const auto& u : unavailable_) spdlog::warn("not available yet in this build: {}", u);
  Status s = pipeline_->start();
  if (!s.is_ok()) return s;
  if (api_) {
    Status a = api_->start();
    if (!a.is_ok()) return Status(a.code(), "web_ui: " + a.message());
    spdlog::info("API and metrics on http://{}:{}/ (/health, /api/status, /metrics)", cfg_.web_ui.host, api_->port());
  }
  return Status::ok();
}

void Connector::stop(std::chrono::milliseconds drain_timeout) {
  pipeline_->stop(drain_timeout);
  if (api_) api_->stop();
}

int Connector::api_port() const { return api_ ? api_->port() : 0; }

nlohmann::json Connector::status() const {
  nlohmann::json j = pipeline_->status();
  j["connector"] = {{"name", cfg_.connector.name},
                    {"started_at_us", started_at_us_},
                    {"uptime_s", (SystemClock::instance().now_us() - started_at_us_) / 1'000'000}};
  j["unavailable_features"] = unavailable_;
  for (const auto& kind : sinks_) {
    if (kind.registration->status != nullptr) {
      j[std::string(kind.registration->name)] = kind.registration->status(cfg_, kind.set.get());
    }
  }
  return j;
}

}  // namespace uc::app
