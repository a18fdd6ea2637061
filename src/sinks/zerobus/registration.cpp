#include "sinks/zerobus/registration.h"

#include "sinks/zerobus/config.h"
#include "sinks/zerobus/token.h"
#include "sinks/zerobus/zerobus_sink.h"

namespace uc::sinks::zerobus {
namespace {

// Every counter of SinkStats, once: its key in /api/status and, when exported, its metric
// family (labelled by target table). Both outputs are derived from this table.
struct CounterField {
  std::uint64_t SinkStats::*member;
  const char* json_key;
  const char* metric;  // null: in /api/status only
  const char* help;
};
constexpr CounterField kCounters[] = {
    {&SinkStats::streams_opened, "streams_opened", "uc_zerobus_streams_opened_total", "Zerobus streams created."},
    {&SinkStats::stream_resets, "stream_resets", "uc_zerobus_stream_reconnects_total",
     "Zerobus streams ended by an error; the next batch opens a new one."},
    {&SinkStats::protocol_errors, "protocol_errors", "uc_zerobus_protocol_errors_total",
     "Malformed or impossible responses from the Zerobus server."},
    {&SinkStats::close_signals, "close_signals", "uc_zerobus_close_signals_total",
     "Close signals received from the server."},
    {&SinkStats::ack_timeouts, "ack_timeouts", "uc_zerobus_ack_timeouts_total", "Streams reset for lack of acks."},
    {&SinkStats::batches_sent, "batches_sent", "uc_zerobus_batches_sent_total",
     "Batches the Zerobus sink delivered (acked; rejected records aside)."},
    {&SinkStats::batches_failed, "batches_failed", "uc_zerobus_batches_failed_total",
     "Batches the Zerobus sink answered with a retry."},
    {&SinkStats::requests_sent, "requests_sent", nullptr, nullptr},
    {&SinkStats::records_acked, "records_acked", "uc_zerobus_records_acked_total",
     "Records the server acknowledged as durable."},
    {&SinkStats::bytes_acked, "bytes_acked", nullptr, nullptr},
    {&SinkStats::records_rejected, "records_rejected", nullptr, nullptr},
};
// The ack latency quantiles: /api/status key, metric quantile label, field.
struct LatencyField {
  double SinkStats::*member;
  const char* json_key;
  const char* quantile;
};
constexpr LatencyField kLatencies[] = {{&SinkStats::ack_p50_s, "ack_latency_p50_s", "0.5"},
                                       {&SinkStats::ack_p99_s, "ack_latency_p99_s", "0.99"}};

nlohmann::json target_status(const ZerobusSink& sink) {
  const SinkStats st = sink.stats();
  nlohmann::json t = {{"table", sink.options().table},
                      {"state", st.state},
                      {"stream_id", st.stream_id},
                      {"last_error", st.last_error}};
  for (const auto& c : kCounters) t[c.json_key] = st.*c.member;
  for (const auto& l : kLatencies) t[l.json_key] = st.*l.member;
  return t;
}

// One ZerobusSink per target table; they share the OAuth token provider.
class ZerobusSinks final : public pipeline::SinkSet {
 public:
  explicit ZerobusSinks(const config::Config& cfg)
      : cfg_(cfg.zerobus),
        tokens_(std::make_shared<TokenProvider>(cfg_.workspace_host, workspace_id_from_endpoint(cfg_.endpoint),
                                                cfg_.client_id.value, cfg_.client_secret.value)) {}

  Result<std::unique_ptr<pipeline::Sink>> build(const std::string& target) override {
    const config::TableName* table = cfg_.default_target ? &*cfg_.default_target : nullptr;
    for (const auto& [source, name] : cfg_.source_targets) {
      if (name.full_name() == target) table = &name;
    }
    if (table == nullptr || table->full_name() != target) {
      return Status(StatusCode::kFailedPrecondition, "zerobus: no table for target " + target);
    }
    Options o = options_for(cfg_, *table);
    if (Status v = validate(o); !v.is_ok()) return Status(v.code(), "zerobus: " + v.message());
    auto sink = std::make_unique<ZerobusSink>(std::move(o), tokens_, SystemClock::instance());
    sinks_.push_back(sink.get());
    return std::unique_ptr<pipeline::Sink>(std::move(sink));
  }

  const config::BatchConfig& batch() const override { return cfg_.batch; }

  void bind_metrics(telemetry::MetricsRegistry& registry) const override {
    for (const auto& c : kCounters) {
      if (c.metric == nullptr) continue;
      auto& family = registry.counter(c.metric, c.help, {"target"});
      const auto member = c.member;
      for (const ZerobusSink* sink : sinks_) {
        family.set_callback({sink->options().table}, [sink, member] { return sink->stats().*member; });
      }
    }
    auto& latency = registry.gauge("uc_zerobus_ack_latency_seconds",
                                   "Time from sending a batch to its ack, over the last 1024 batches.",
                                   {"target", "quantile"});
    for (const auto& l : kLatencies) {
      const auto member = l.member;
      for (const ZerobusSink* sink : sinks_) {
        latency.set_callback({sink->options().table, l.quantile}, [sink, member] { return sink->stats().*member; });
      }
    }
    auto tokens = tokens_;
    registry.counter("uc_zerobus_tokens_fetched_total", "OAuth tokens fetched (all tables).")
        .set_callback({}, [tokens] { return tokens->fetched(); });
  }

  Result<nlohmann::json> diagnose(const std::string& target) const override {
    nlohmann::json out = nlohmann::json::array();
    for (const ZerobusSink* sink : sinks_) {
      if (!target.empty() && sink->options().table != target) continue;
      out.push_back(sink->diagnose());
    }
    if (out.empty()) return not_found("no zerobus target named \"" + target + "\"");
    return out;
  }

  nlohmann::json status() const {
    nlohmann::json targets = nlohmann::json::array();
    for (const ZerobusSink* sink : sinks_) targets.push_back(target_status(*sink));
    return {{"enabled", !sinks_.empty()},
            {"endpoint", cfg_.endpoint},
            {"tokens_fetched", tokens_->fetched()},
            {"targets", targets}};
  }

 private:
  config::ZerobusConfig cfg_;
  std::shared_ptr<TokenProvider> tokens_;
  std::vector<const ZerobusSink*> sinks_;  // owned by their lanes, which outlive this set's readers
};

nlohmann::json status(const config::Config& cfg, const pipeline::SinkSet* set) {
  if (set != nullptr) return static_cast<const ZerobusSinks*>(set)->status();
  return {{"enabled", false}, {"endpoint", cfg.zerobus.endpoint}, {"tokens_fetched", 0},
          {"targets", nlohmann::json::array()}};
}

}  // namespace

pipeline::SinkRegistration registration() {
  return {"zerobus", "zerobus.enabled", [](const config::Config& cfg) { return cfg.zerobus.enabled; },
          [](const config::Config& cfg) -> Result<std::unique_ptr<pipeline::SinkSet>> {
            return std::unique_ptr<pipeline::SinkSet>(std::make_unique<ZerobusSinks>(cfg));
          },
          status, true};
}

}  // namespace uc::sinks::zerobus
