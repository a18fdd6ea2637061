#include "app/connector.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <set>

#include "api/api_server.h"
#include "app/components.h"
#include "normalize/normalizer.h"
#include "sinks/file/file_sink.h"
#include "sinks/stdout/stdout_sink.h"
#include "telemetry/standard_metrics.h"

namespace uc::app {
namespace {

normalize::Options normalize_options(const config::Config& cfg) {
  normalize::Options o;
  const auto& n = cfg.normalization;
  o.enabled = n.enabled;
  o.path_template = n.path_template;
  o.defaults = {n.default_context.site, n.default_context.area, n.default_context.line,
                n.default_context.equipment};
  for (const auto& r : n.rules) {
    normalize::Rule rule;
    rule.protocol = r.protocol;
    rule.source = r.source;
    rule.field = (r.field == config::RuleField::kTopic || r.field == config::RuleField::kAddress)
                     ? normalize::RuleField::kAddress
                     : normalize::RuleField::kNamePath;
    rule.pattern = r.pattern;
    o.rules.push_back(std::move(rule));
  }
  for (const auto& m : n.mappings) {
    normalize::TagMapping t;
    t.source = m.source;
    t.address = m.address;
    t.tag_name = m.tag_name;
    t.signal_type = m.signal_type;
    t.unit = m.unit;
    t.site = m.site;
    t.area = m.area;
    t.line = m.line;
    t.equipment = m.equipment;
    if (m.eng_range) {
      t.eng_low = m.eng_range->first;
      t.eng_high = m.eng_range->second;
    }
    o.mappings.push_back(std::move(t));
  }
  o.connector_name = cfg.connector.name;
  return o;
}

pipeline::DropPolicy drop_policy(config::DropPolicy p) {
  switch (p) {
    case config::DropPolicy::kBlock: return pipeline::DropPolicy::kBlock;
    case config::DropPolicy::kOldest: return pipeline::DropPolicy::kDropOldest;
    case config::DropPolicy::kNewest: return pipeline::DropPolicy::kDropNewest;
  }
  return pipeline::DropPolicy::kBlock;
}

pipeline::LaneOptions lane_options(const config::Config& cfg, const std::string& target,
                                   const config::BatchConfig& batch) {
  pipeline::LaneOptions o;
  o.target = target;
  o.capacity = static_cast<std::size_t>(cfg.backpressure.max_queue_size);
  o.policy = drop_policy(cfg.backpressure.drop_policy);
  o.batch.max_records = static_cast<std::size_t>(batch.max_records);
  o.batch.max_bytes = static_cast<std::size_t>(batch.max_bytes);
  o.batch.linger = std::chrono::milliseconds(batch.linger_ms);
  return o;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

std::string default_target(const config::Config& cfg) {
  return cfg.zerobus.default_target ? cfg.zerobus.default_target->full_name() : std::string("default");
}

std::string target_for_source(const config::Config& cfg, const std::string& source) {
  auto it = cfg.zerobus.source_targets.find(source);
  return it == cfg.zerobus.source_targets.end() ? default_target(cfg) : it->second.full_name();
}

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

  const normalize::Options norm = normalize_options(cfg);
  if (Status s = normalize::validate_options(norm); !s.is_ok()) return Status(s.code(), "normalization: " + s.message());
  auto registry = std::make_shared<normalize::PathRegistry>();

  // Sources first, to learn which targets are in use.
  struct Built {
    const config::SourceConfig* cfg;
    std::unique_ptr<pipeline::Source> source;
    std::unique_ptr<normalize::Normalizer> normalizer;
  };
  std::vector<Built> built;
  std::set<std::string> targets;
  for (const auto& s : cfg.sources) {
    if (!options.only_sources.empty() &&
        std::find(options.only_sources.begin(), options.only_sources.end(), s.name) == options.only_sources.end()) {
      continue;
    }
    if (!s.enabled) continue;
    auto source = build_source(s);
    if (!source.is_ok()) {
      if (source.status().code() == StatusCode::kUnimplemented) continue;  // listed in unavailable_
      return source.status();
    }
    normalize::SourceInfo info;
    info.name = s.name;
    info.protocol = s.protocol;
    info.endpoint = s.endpoint;
    info.context = {s.site, s.area, s.line, s.equipment};
    info.path_template = s.path_template;
    auto normalizer = normalize::Normalizer::create(norm, info, registry);
    if (!normalizer.is_ok()) {
      return Status(normalizer.status().code(), "source " + s.name + ": " + normalizer.status().message());
    }
    std::string source_name = s.name;
    (*normalizer)->set_collision_handler([source_name](const normalize::Collision& col) {
      spdlog::warn("source={} tag path collision: {}", source_name, col.to_string());
    });
    targets.insert(target_for_source(cfg, s.name));
    built.push_back({&s, std::move(source).value(), std::move(normalizer).value()});
  }
  if (targets.empty()) targets.insert(default_target(cfg));

  const bool file = options.file_sink && cfg.sinks.file.enabled;
  const bool out = options.stdout_sink || cfg.sinks.stdout_sink.enabled;
  if (!file && !out) {
    return Status(StatusCode::kFailedPrecondition,
                  "no sink is enabled (sinks.file.enabled and sinks.stdout.enabled are both false)");
  }
  for (const auto& t : targets) {
    if (file) {
      sinks::file::Options fo;
      fo.directory = cfg.sinks.file.directory.empty()
                         ? (std::filesystem::path(cfg.connector.data_dir) / "records").string()
                         : cfg.sinks.file.directory;
      fo.target = t;
      fo.rotate_bytes = static_cast<std::uint64_t>(cfg.sinks.file.rotate_mb) * 1024 * 1024;
      fo.rotate_interval = std::chrono::seconds(cfg.sinks.file.rotate_s);
      Status s = c->pipeline_->add_lane(lane_options(cfg, t, cfg.sinks.file.batch),
                                        std::make_unique<sinks::file::FileSink>(fo, SystemClock::instance()));
      if (!s.is_ok()) return s;
    }
    if (out) {
      Status s = c->pipeline_->add_lane(lane_options(cfg, t, cfg.sinks.file.batch),
                                        std::make_unique<sinks::stdout_sink::StdoutSink>());
      if (!s.is_ok()) return s;
    }
  }
  for (auto& b : built) {
    Status s = c->pipeline_->add_source(std::move(b.source), std::move(b.normalizer),
                                        {target_for_source(cfg, b.cfg->name)}, b.cfg->protocol);
    if (!s.is_ok()) return s;
  }

  if (options.start_api && cfg.web_ui.enabled) {
    if (!is_loopback_host(cfg.web_ui.host) && cfg.web_ui.auth_token.value.empty()) {
      return Status(StatusCode::kFailedPrecondition,
                    "web_ui.host " + cfg.web_ui.host + " is not loopback and web_ui.auth_token is not available");
    }
    api::ApiServer::Options ao;
    ao.host = cfg.web_ui.host;
    ao.port = cfg.web_ui.port;
    ao.auth_token = cfg.web_ui.auth_token.value;
    api::ApiServer::Providers providers;
    Connector* self = c.get();
    providers.status = [self] { return self->status(); };
    providers.health = [self] {
      nlohmann::json h = {{"status", "ok"}};
      for (const auto* lane : self->pipeline_->lanes()) {
        if (lane->state() == pipeline::ComponentState::kFailed) h["status"] = "failed";
      }
      return h;
    };
    providers.metrics = &c->metrics_;
    c->api_ = std::make_unique<api::ApiServer>(ao, providers);
  }
  c->bind_metrics();
  return c;
}

void Connector::bind_metrics() {
  auto m = telemetry::register_standard_metrics(metrics_);
  for (const auto& s : pipeline_->sources()) {
    const pipeline::SourceCounters* c = s.counters;
    telemetry::LabelValues l{s.name};
    m.records_received->set_callback(l, [c] { return c->received.load(); });
    m.records_normalized->set_callback(l, [c] { return c->normalized.load(); });
    m.reconnections->set_callback(l, [c] { return c->reconnections.load(); });
    m.source_errors->set_callback(l, [c] { return c->errors.load(); });
    const pipeline::Pipeline* p = pipeline_.get();
    std::string name = s.name;
    for (std::size_t i = 0; i < telemetry::kSourceStates.size(); ++i) {
      m.source_state->set_callback({s.name, std::string(telemetry::kSourceStates[i])}, [p, name, i] {
        return static_cast<std::size_t>(p->source_state(name)) == i ? 1.0 : 0.0;
      });
    }
  }
  for (const pipeline::Lane* lane : pipeline_->lanes()) {
    const auto& c = lane->counters();
    telemetry::LabelValues l{lane->target()};
    m.records_enqueued->set_callback(l, [&c] { return c.enqueued.load(); });
    m.records_delivered->set_callback(l, [&c] { return c.delivered.load(); });
    m.batches_sent->set_callback(l, [&c] { return c.batches_sent.load(); });
    m.batches_failed->set_callback(l, [&c] { return c.batches_failed.load(); });
    m.records_dropped->set_callback({lane->target(), "drop_oldest"}, [&c] { return c.dropped_oldest.load(); });
    m.records_dropped->set_callback({lane->target(), "drop_newest"}, [&c] { return c.dropped_newest.load(); });
    m.records_dropped->set_callback({lane->target(), "shutdown"}, [&c] { return c.dropped_shutdown.load(); });
    m.records_dropped->set_callback({lane->target(), "rejected"}, [&c] { return c.rejected.load(); });
    m.queue_size->set_callback(l, [lane] { return static_cast<double>(lane->queue_size()); });
    m.queue_capacity->with(l).set(static_cast<double>(lane->queue_capacity()));
  }
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
  return j;
}

}  // namespace uc::app
