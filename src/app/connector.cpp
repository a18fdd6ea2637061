#include "app/connector.h"

#include <spdlog/spdlog.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "api/api_server.h"
#include "api/connector_routes.h"
#include "api/zerobus_routes.h"
#include "app/components.h"
#include "app/load_config.h"
#include "app/registry.h"
#include "config/yaml_tree.h"
#include "normalize/config.h"
#include "pipeline/lane_config.h"
#include "pipeline/metrics.h"
#include "pipeline/router.h"

namespace uc::app {
namespace {

// The file's top-level sections other than `sources`, each as emitted YAML (a reload tells
// which of them differ from what runs: those need a restart). Empty when unreadable.
std::map<std::string, std::string> config_sections(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::string> out;
  try {  // the compact tree: the file may hold 200,000 sources (config/yaml_tree.h)
    const auto tree = config::YamlTree::parse(text.str());
    if (tree->documents() == 0 || !tree->document(0).is_map()) return out;
    const config::YamlNode root = tree->document(0);
    for (std::size_t i = 0; i < root.size(); ++i) {
      const std::string key(root.key(i).is_scalar() ? root.key(i).scalar() : std::string_view());
      if (key != "sources") out[key] = config::emit_yaml(root.value(i));
    }
  } catch (const YAML::Exception&) {
    out.clear();
  }
  return out;
}

std::vector<std::string> changed_sections(const std::map<std::string, std::string>& running,
                                          const std::map<std::string, std::string>& file) {
  std::set<std::string> keys;
  for (const auto& [k, v] : running) keys.insert(k);
  for (const auto& [k, v] : file) keys.insert(k);
  std::vector<std::string> out;
  for (const auto& k : keys) {
    const auto a = running.find(k);
    const auto b = file.find(k);
    if (a == running.end() || b == file.end() || a->second != b->second) out.push_back(k);
  }
  return out;
}

bool wanted(const std::vector<std::string>& only, const std::string& name) {
  return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

}  // namespace

Connector::Connector(const config::Config& cfg) : config_(cfg), api_host_(cfg.web_ui.host) {}

Connector::~Connector() {
  if (api_) api_->stop();
}

Result<std::unique_ptr<Connector>> Connector::build(const config::Config& cfg, const ConnectorOptions& options) {
  std::unique_ptr<Connector> c(new Connector(cfg));
  c->pipeline_ = std::make_unique<pipeline::Pipeline>(SystemClock::instance());
  c->unavailable_ = unavailable_features(cfg);
  // Lanes first: a source is added with the lanes of its target.
  if (Status s = c->add_lanes(cfg, options); !s.is_ok()) return s;
  if (Status s = c->add_sources(cfg, options); !s.is_ok()) return s;
  if (!options.config_path.empty()) {
    if (Status s = c->add_persistence(options.config_path); !s.is_ok()) return s;
  }
  if (options.start_api && cfg.web_ui.enabled) {
    if (Status s = c->add_api(cfg); !s.is_ok()) return s;
  }
  pipeline::bind_metrics(*c->pipeline_, c->metrics_);
  c->live_sources_->bind_new_sources_metrics();
  for (const auto& kind : c->sinks_) {
    if (kind.set) kind.set->bind_metrics(c->metrics_);
  }
  return c;
}

// One lane per target in use × sink kind in use. The targets are those of the enabled
// sources (the default target when there are none).
Status Connector::add_lanes(const config::Config& cfg, const ConnectorOptions& options) {
  const auto router = pipeline::Router::from_config(cfg);
  std::set<std::string> targets;
  for (const auto& s : cfg.sources) {
    if (s.enabled && wanted(options.only_sources, s.name) && check_source(s).is_ok()) {
      targets.insert(router.target_for(s.name));
    }
  }
  if (targets.empty()) targets.insert(router.default_target());

  std::string keys;
  for (const auto& r : sink_table()) {
    keys += (keys.empty() ? "" : ", ") + std::string(r.enabled_key);
    const bool use = options.sinks ? wanted(*options.sinks, std::string(r.name)) && !options.sinks->empty()
                                   : r.enabled(cfg);
    SinkKind kind{&r, nullptr};
    if (use) {
      auto set = r.create(cfg);
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
      Status s = pipeline_->add_lane(pipeline::lane_options_from(cfg.backpressure, kind.set->batch(), place),
                                     std::move(sink).value());
      if (!s.is_ok()) return s;
    }
  }
  return Status::ok();
}

Status Connector::add_sources(const config::Config& cfg, const ConnectorOptions& options) {
  auto live = LiveSources::create(config_, *pipeline_, metrics_);
  if (!live.is_ok()) return live.status();
  live_sources_ = std::move(live).value();
  for (const auto& s : cfg.sources) {
    if (!s.enabled || !wanted(options.only_sources, s.name)) continue;
    if (Status st = live_sources_->add_configured(s); !st.is_ok()) return st;
  }
  return Status::ok();
}

Status Connector::add_persistence(const std::string& config_path) {
  config_path_ = config_path;
  managed_ = std::make_unique<ManagedSources>(config_path);
  if (Status s = managed_->load(); !s.is_ok()) return s;
  live_sources_->persist_to(managed_.get());
  sections_ = config_sections(config_path);
  return Status::ok();
}

nlohmann::json Connector::reload() {
  std::lock_guard lock(reload_mu_);
  std::ostringstream text;
  auto cfg = load_config(config_path_, text);
  std::vector<std::string> errors, notes;
  std::istringstream lines(text.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("note: ", 0) == 0) {
      notes.push_back(line.substr(6));
    } else if (!line.empty()) {
      errors.push_back(line);
    }
  }
  if (!cfg) return {{"ok", false}, {"errors", errors}};
  if (Status s = managed_->load(); !s.is_ok()) return {{"ok", false}, {"errors", {s.message()}}};
  auto applied = live_sources_->apply_sources(cfg->sources);
  if (!applied.is_ok()) return {{"ok", false}, {"errors", {applied.status().message()}}};
  nlohmann::json out = *applied;
  out["ok"] = true;
  out["restart_required"] = changed_sections(sections_, config_sections(config_path_));
  out["notes"] = notes;
  return out;
}

Status Connector::add_api(const config::Config& cfg) {
  if (!api::is_loopback_host(cfg.web_ui.host) && cfg.web_ui.auth_token.value.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "web_ui.host " + cfg.web_ui.host + " is not loopback and web_ui.auth_token is not available");
  }
  api::ApiServer::Options ao;
  ao.host = cfg.web_ui.host;
  ao.port = cfg.web_ui.port;
  ao.auth_token = cfg.web_ui.auth_token.value;
  ao.audit_log_path = (std::filesystem::path(cfg.connector.data_dir) / "audit.log").string();
  if (cfg.web_ui.tls.enabled) {
    ao.tls_cert_file = cfg.web_ui.tls.cert_file;
    ao.tls_key_file = cfg.web_ui.tls.key_file;
  }
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
  if (Status s = api::add_connector_routes(*api_, view); !s.is_ok()) return s;
  if (!config_path_.empty()) {
    Status s = api_->add_route(
        "POST", "/api/config/reload",
        [this](const api::Request&) {
          nlohmann::json r = reload();
          if (r["ok"] == true) return api::Response::json(r);
          return api::Response::error(400, "invalid_config",
                                      "the configuration has errors; nothing was changed",
                                      {{"errors", r["errors"]}});
        },
        "Re-read the configuration file and the managed file; apply the difference in sources");
    if (!s.is_ok()) return s;
  }
  live_zerobus_ = std::make_unique<LiveZerobus>(config_, *pipeline_, managed_.get());
  if (Status s = api::add_zerobus_routes(*api_, *live_zerobus_); !s.is_ok()) return s;
  return api::add_source_routes(*api_, *live_sources_);
}

Status Connector::start() {
  started_at_us_ = SystemClock::instance().now_us();
  for (const auto& u : unavailable_) spdlog::warn("not available yet in this build: {}", u);
  Status s = pipeline_->start();
  if (!s.is_ok()) return s;
  if (api_) {
    Status a = api_->start();
    if (!a.is_ok()) return Status(a.code(), "web_ui: " + a.message());
    spdlog::info("API and metrics on http://{}:{}/ (/health, /api/status, /metrics)", api_host_, api_->port());
  }
  return Status::ok();
}

void Connector::stop(std::chrono::milliseconds drain_timeout) {
  if (live_sources_) live_sources_->close();
  pipeline_->stop(drain_timeout);
  if (api_) api_->stop();
}

int Connector::api_port() const { return api_ ? api_->port() : 0; }

nlohmann::json Connector::status() const {
  nlohmann::json j = pipeline_->status();
  const std::string name = config_.read([](const config::Config& c) { return c.connector.name; });
  j["connector"] = {{"name", name},
                    {"started_at_us", started_at_us_},
                    {"uptime_s", (SystemClock::instance().now_us() - started_at_us_) / 1'000'000}};
  j["unavailable_features"] = unavailable_;
  for (const auto& kind : sinks_) {
    if (kind.registration->status != nullptr) {
      const std::string sink(kind.registration->name);
      j[sink] = config_.read([&](const config::Config& c) { return kind.registration->status(c, kind.set.get()); });
      j[sink]["delivery"] = pipeline_->delivery_state(sink);
    }
  }
  return j;
}

}  // namespace uc::app
