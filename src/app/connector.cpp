#include "app/connector.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "api/api_server.h"
#include "buffer/spool.h"
#include "app/components.h"
#include "app/registry.h"
#include "normalize/normalizer.h"
#include "sinks/file/file_sink.h"
#include "sinks/stdout/stdout_sink.h"
#include "sinks/zerobus/token.h"
#include "sinks/zerobus/zerobus_sink.h"
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

buffer::FsyncPolicy fsync_policy(config::FsyncPolicy p) {
  switch (p) {
    case config::FsyncPolicy::kBatch: return buffer::FsyncPolicy::kBatch;
    case config::FsyncPolicy::kInterval: return buffer::FsyncPolicy::kInterval;
    case config::FsyncPolicy::kNever: return buffer::FsyncPolicy::kNever;
  }
  return buffer::FsyncPolicy::kInterval;
}

// Files of one lane (target × sink) live under <dir>/<target>[.<sink>] — the sink
// suffix only when a target has more than one sink, so the common case reads simply.
std::string lane_dir(const std::string& base, const std::string& target, const std::string& sink, bool several) {
  std::string name;
  for (char ch : target) name += (ch == '/' || ch == '\0') ? '_' : ch;
  if (several) name += "." + sink;
  return (std::filesystem::path(base) / name).string();
}

pipeline::LaneOptions lane_options(const config::Config& cfg, const std::string& target, const std::string& sink,
                                   bool several_sinks, const config::BatchConfig& batch) {
  pipeline::LaneOptions o;
  const auto& bp = cfg.backpressure;
  o.target = target;
  o.capacity = static_cast<std::size_t>(bp.max_queue_size);
  o.policy = drop_policy(bp.drop_policy);
  o.batch.max_records = static_cast<std::size_t>(batch.max_records);
  o.batch.max_bytes = static_cast<std::size_t>(batch.max_bytes);
  o.batch.linger = std::chrono::milliseconds(batch.linger_ms);
  o.retry_initial = std::chrono::milliseconds(bp.retry.initial_ms);
  o.retry_max = std::chrono::milliseconds(bp.retry.max_ms);
  o.breaker.failure_threshold = static_cast<std::uint32_t>(bp.circuit_breaker.failure_threshold);
  o.breaker.open_duration = std::chrono::seconds(bp.circuit_breaker.open_s);
  if (bp.disk_spool.enabled) {
    buffer::SpoolOptions so;
    so.directory = lane_dir(bp.disk_spool.directory, target, sink, several_sinks);
    so.max_bytes = static_cast<std::uint64_t>(bp.disk_spool.max_size_mb) * 1024 * 1024;
    so.segment_bytes = std::min<std::uint64_t>(static_cast<std::uint64_t>(bp.disk_spool.segment_mb) * 1024 * 1024,
                                               std::max<std::uint64_t>(so.max_bytes / 4, 64 * 1024));
    so.fsync = fsync_policy(bp.disk_spool.fsync);
    so.fsync_interval = std::chrono::milliseconds(bp.disk_spool.fsync_interval_ms);
    o.spool = so;
  }
  o.dlq_directory = several_sinks ? lane_dir(bp.dlq.directory, target, sink, true) : bp.dlq.directory;
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
    targets.insert(target_for_source(cfg, s.name));
    built.push_back({&s, std::move(source).value(), std::move(normalizer).value()});
  }
  if (targets.empty()) targets.insert(default_target(cfg));

  const bool file = options.file_sink && cfg.sinks.file.enabled;
  const bool out = options.stdout_sink || cfg.sinks.stdout_sink.enabled;
  const bool zerobus = options.file_sink && cfg.zerobus.enabled;  // `read` prints only
  const bool several = (file ? 1 : 0) + (out ? 1 : 0) + (zerobus ? 1 : 0) > 1;
  config::Config lane_cfg = cfg;
  if (!options.use_spool) lane_cfg.backpressure.disk_spool.enabled = false;
  if (!file && !out && !zerobus) {
    return Status(StatusCode::kFailedPrecondition,
                  "no sink is enabled (sinks.file.enabled, sinks.stdout.enabled and zerobus.enabled are all false)");
  }
  if (zerobus) {
    c->zerobus_tokens_ = std::make_shared<sinks::zerobus::TokenProvider>(
        cfg.zerobus.workspace_host, sinks::zerobus::workspace_id_from_endpoint(cfg.zerobus.endpoint),
        cfg.zerobus.client_id.value, cfg.zerobus.client_secret.value);
  }
  for (const auto& t : targets) {
    if (zerobus) {
      const config::TableName* table = cfg.zerobus.default_target ? &*cfg.zerobus.default_target : nullptr;
      for (const auto& [source, name] : cfg.zerobus.source_targets) {
        if (name.full_name() == t) table = &name;
      }
      if (table == nullptr || table->full_name() != t) {
        return Status(StatusCode::kFailedPrecondition, "zerobus: no table for target " + t);
      }
      auto zo = sinks::zerobus::options_for(cfg.zerobus, *table);
      if (Status v = sinks::zerobus::validate(zo); !v.is_ok()) return Status(v.code(), "zerobus: " + v.message());
      auto sink = std::make_unique<sinks::zerobus::ZerobusSink>(zo, c->zerobus_tokens_, SystemClock::instance());
      c->zerobus_sinks_.push_back(sink.get());
      auto lo = lane_options(lane_cfg, t, "zerobus", several, cfg.zerobus.batch);
      if (!options.use_spool) lo.dlq_directory.clear();
      Status s = c->pipeline_->add_lane(std::move(lo), std::move(sink));
      if (!s.is_ok()) return s;
    }
    if (file) {
      sinks::file::Options fo;
      fo.directory = cfg.sinks.file.directory.empty()
                         ? (std::filesystem::path(cfg.connector.data_dir) / "records").string()
                         : cfg.sinks.file.directory;
      fo.target = t;
      fo.rotate_bytes = static_cast<std::uint64_t>(cfg.sinks.file.rotate_mb) * 1024 * 1024;
      fo.rotate_interval = std::chrono::seconds(cfg.sinks.file.rotate_s);
      fo.fsync = cfg.sinks.file.fsync;
      fo.max_record_bytes = static_cast<std::uint64_t>(cfg.sinks.file.max_record_bytes);
      auto lo = lane_options(lane_cfg, t, "file", several, cfg.sinks.file.batch);
      if (!options.use_spool) lo.dlq_directory.clear();
      Status s = c->pipeline_->add_lane(std::move(lo),
                                        std::make_unique<sinks::file::FileSink>(fo, SystemClock::instance()));
      if (!s.is_ok()) return s;
    }
    if (out) {
      auto lo = lane_options(lane_cfg, t, "stdout", several, cfg.sinks.file.batch);
      if (!options.use_spool) lo.dlq_directory.clear();
      Status s = c->pipeline_->add_lane(std::move(lo), std::make_unique<sinks::stdout_sink::StdoutSink>());
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
    Status r = c->add_dlq_routes();
    if (!r.is_ok()) return r;
    r = c->add_zerobus_routes();
    if (!r.is_ok()) return r;
  }
  c->bind_metrics();
  return c;
}

namespace {

// Parses a non-negative integer query parameter; nullopt (and *error set) when invalid.
std::optional<std::size_t> query_size(const api::Request& req, std::string_view name, std::size_t fallback,
                                      std::size_t max, std::string* error) {
  auto v = req.query_value(name);
  if (!v) return fallback;
  std::size_t n = 0;
  auto res = std::from_chars(v->data(), v->data() + v->size(), n);
  if (res.ec != std::errc() || res.ptr != v->data() + v->size() || n > max) {
    *error = std::string(name) + " must be an integer between 0 and " + std::to_string(max);
    return std::nullopt;
  }
  return n;
}

}  // namespace

Status Connector::add_dlq_routes() {
  // GET /api/dlq?target=T&offset=N&limit=M — per target: count and entries.
  Status s = api_->add_route("GET", "/api/dlq", [this](const api::Request& req) {
    std::string error;
    auto offset = query_size(req, "offset", 0, 1'000'000'000, &error);
    auto limit = query_size(req, "limit", 100, 10'000, &error);
    if (!offset || !limit) return api::Response::error(400, error);
    const std::string target = req.query_value("target").value_or("");
    nlohmann::json targets = nlohmann::json::array();
    bool found = target.empty();
    for (const pipeline::Lane* lane : pipeline_->lanes()) {
      if (!target.empty() && lane->target() != target) continue;
      found = true;
      nlohmann::json t = {{"target", lane->target()}, {"sink", lane->sink().name()}};
      if (lane->dlq() == nullptr) {
        t["messages"] = 0;
        t["entries"] = nlohmann::json::array();
      } else {
        t["messages"] = lane->dlq()->count();
        t["path"] = lane->dlq()->path();
        auto entries = lane->dlq()->list(*offset, *limit);
        if (!entries.is_ok()) return api::Response::error(500, entries.status().message());
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : *entries) {
          nlohmann::json record = nlohmann::json::parse(e.record_json, nullptr, false);
          list.push_back({{"time_us", e.time_us},
                          {"reason", e.reason},
                          {"record", record.is_discarded() ? nlohmann::json() : record}});
        }
        t["entries"] = std::move(list);
      }
      targets.push_back(std::move(t));
    }
    if (!found) return api::Response::error(404, "no target named \"" + target + "\"");
    return api::Response::json({{"targets", targets}});
  });
  if (!s.is_ok()) return s;
  // POST /api/dlq/replay  body (optional): {"target": "T"}
  return api_->add_route("POST", "/api/dlq/replay", [this](const api::Request& req) {
    std::string target;
    if (!req.body.empty()) {
      auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) return api::Response::error(400, "body must be a JSON object");
      for (const auto& [k, v] : body.items()) {
        if (k != "target") return api::Response::error(400, "unknown key \"" + k + "\"");
        if (!v.is_string()) return api::Response::error(400, "target must be a string");
        target = v.get<std::string>();
      }
    }
    auto n = pipeline_->replay_dlq(target);
    if (!n.is_ok()) {
      return api::Response::error(n.status().code() == StatusCode::kNotFound ? 404 : 503, n.status().message());
    }
    return api::Response::json({{"replayed", *n}});
  });
}

Status Connector::add_zerobus_routes() {
  // GET /api/zerobus/diagnostics?target=T — DNS, TCP, token, and a stream opened and
  // closed on a separate connection, per target table.
  return api_->add_route("GET", "/api/zerobus/diagnostics", [this](const api::Request& req) {
    if (zerobus_sinks_.empty()) return api::Response::error(409, "zerobus is not enabled");
    const std::string target = req.query_value("target").value_or("");
    nlohmann::json out = nlohmann::json::array();
    for (const auto* sink : zerobus_sinks_) {
      if (!target.empty() && sink->options().table != target) continue;
      out.push_back(sink->diagnose());
    }
    if (out.empty()) return api::Response::error(404, "no zerobus target named \"" + target + "\"");
    bool ok = true;
    for (const auto& t : out) ok = ok && t["ok"].get<bool>();
    return api::Response::json({{"ok", ok}, {"targets", out}});
  });
}

nlohmann::json Connector::zerobus_status() const {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto* sink : zerobus_sinks_) {
    auto st = sink->stats();
    targets.push_back({{"table", sink->options().table},
                       {"state", st.state},
                       {"stream_id", st.stream_id},
                       {"last_error", st.last_error},
                       {"streams_opened", st.streams_opened},
                       {"stream_resets", st.stream_resets},
                       {"protocol_errors", st.protocol_errors},
                       {"close_signals", st.close_signals},
                       {"ack_timeouts", st.ack_timeouts},
                       {"batches_sent", st.batches_sent},
                       {"batches_failed", st.batches_failed},
                       {"requests_sent", st.requests_sent},
                       {"records_acked", st.records_acked},
                       {"bytes_acked", st.bytes_acked},
                       {"records_rejected", st.records_rejected},
                       {"ack_latency_p50_s", st.ack_p50_s},
                       {"ack_latency_p99_s", st.ack_p99_s}});
  }
  return {{"enabled", !zerobus_sinks_.empty()},
          {"endpoint", cfg_.zerobus.endpoint},
          {"tokens_fetched", zerobus_tokens_ ? zerobus_tokens_->fetched() : 0},
          {"targets", targets}};
}

void Connector::bind_metrics() {
  auto m = telemetry::register_standard_metrics(metrics_);
  auto& dead_lettered = metrics_.counter("uc_records_dead_lettered_total",
                                         "Records a sink rejected for good, written to the target's DLQ.",
                                         {"target", "sink"});
  auto& spooled = metrics_.counter("uc_records_spooled_total", "Records written to the target's disk spool.",
                                   {"target", "sink"});
  auto& collisions = metrics_.gauge("uc_tag_path_collisions",
                                    "Tags of a source whose tag path was taken by another tag (given a suffixed path).",
                                    {"source"});
  for (const auto& s : pipeline_->sources()) {
    const pipeline::SourceCounters* c = s.counters;
    telemetry::LabelValues l{s.name};
    collisions.set_callback(l, [c] { return static_cast<double>(c->path_collisions.load()); });
    m.records_received->set_callback(l, [c] { return c->received.load(); });
    m.records_normalized->set_callback(l, [c] { return c->normalized.load(); });
    m.reconnections->set_callback(l, [c] { return c->reconnections.load(); });
    m.source_errors->set_callback(l, [c] { return c->errors.load(); });
    for (const auto& extra : s.source->extra_counters()) {
      metrics_.counter("uc_" + extra.name, extra.help, {"source"}).set_callback(l, extra.value);
    }
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
    // One lane per target x sink: a target mirrored to two sinks has two of everything.
    const std::string sink = lane->sink().name();
    telemetry::LabelValues l{lane->target(), sink};
    m.records_enqueued->set_callback(l, [&c] { return c.enqueued.load(); });
    m.records_delivered->set_callback(l, [&c] { return c.delivered.load(); });
    m.batches_sent->set_callback(l, [&c] { return c.batches_sent.load(); });
    m.batches_failed->set_callback(l, [&c] { return c.batches_failed.load(); });
    m.records_dropped->set_callback({lane->target(), sink, "drop_oldest"}, [&c] { return c.dropped_oldest.load(); });
    m.records_dropped->set_callback({lane->target(), sink, "drop_newest"}, [&c] { return c.dropped_newest.load(); });
    m.records_dropped->set_callback({lane->target(), sink, "shutdown"}, [&c] { return c.dropped_shutdown.load(); });
    m.records_dropped->set_callback({lane->target(), sink, "rejected"}, [&c] { return c.rejected.load(); });
    m.records_dropped->set_callback({lane->target(), sink, "corrupt"}, [&c] { return c.corrupt.load(); });
    dead_lettered.set_callback(l, [&c] { return c.dead_lettered.load(); });
    spooled.set_callback(l, [&c] { return c.spooled.load(); });
    m.spool_bytes->set_callback(l, [lane] { return static_cast<double>(lane->spool_bytes()); });
    m.dlq_messages->set_callback(l, [lane] { return lane->dlq() ? static_cast<double>(lane->dlq()->count()) : 0.0; });
    m.circuit_breaker_state->set_callback(l, [lane] { return static_cast<double>(lane->circuit_state()); });
    m.queue_size->set_callback(l, [lane] { return static_cast<double>(lane->queue_size()); });
    m.queue_capacity->with(l).set(static_cast<double>(lane->queue_capacity()));
  }
  if (zerobus_sinks_.empty()) return;
  auto& opened = metrics_.counter("uc_zerobus_streams_opened_total", "Zerobus streams created.", {"target"});
  auto& reconnects = metrics_.counter("uc_zerobus_stream_reconnects_total",
                                      "Zerobus streams ended by an error; the next batch opens a new one.", {"target"});
  auto& protocol = metrics_.counter("uc_zerobus_protocol_errors_total",
                                    "Malformed or impossible responses from the Zerobus server.", {"target"});
  auto& closes = metrics_.counter("uc_zerobus_close_signals_total", "Close signals received from the server.",
                                  {"target"});
  auto& timeouts = metrics_.counter("uc_zerobus_ack_timeouts_total", "Streams reset for lack of acks.", {"target"});
  auto& acked = metrics_.counter("uc_zerobus_records_acked_total", "Records the server acknowledged as durable.",
                                 {"target"});
  auto& latency = metrics_.gauge("uc_zerobus_ack_latency_seconds",
                                 "Time from sending a batch to its ack, over the last 1024 batches.",
                                 {"target", "quantile"});
  auto& tokens = metrics_.counter("uc_zerobus_tokens_fetched_total", "OAuth tokens fetched (all tables).");
  auto& sent = metrics_.counter("uc_zerobus_batches_sent_total",
                                "Batches the Zerobus sink delivered (acked; rejected records aside).", {"target"});
  auto& failed = metrics_.counter("uc_zerobus_batches_failed_total",
                                  "Batches the Zerobus sink answered with a retry.", {"target"});
  for (const auto* sink : zerobus_sinks_) {
    telemetry::LabelValues l{sink->options().table};
    opened.set_callback(l, [sink] { return sink->stats().streams_opened; });
    sent.set_callback(l, [sink] { return sink->stats().batches_sent; });
    failed.set_callback(l, [sink] { return sink->stats().batches_failed; });
    reconnects.set_callback(l, [sink] { return sink->stats().stream_resets; });
    protocol.set_callback(l, [sink] { return sink->stats().protocol_errors; });
    closes.set_callback(l, [sink] { return sink->stats().close_signals; });
    timeouts.set_callback(l, [sink] { return sink->stats().ack_timeouts; });
    acked.set_callback(l, [sink] { return sink->stats().records_acked; });
    latency.set_callback({sink->options().table, "0.5"}, [sink] { return sink->stats().ack_p50_s; });
    latency.set_callback({sink->options().table, "0.99"}, [sink] { return sink->stats().ack_p99_s; });
  }
  auto provider = zerobus_tokens_;
  tokens.set_callback({}, [provider] { return provider->fetched(); });
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
  j["zerobus"] = zerobus_status();
  return j;
}

}  // namespace uc::app
