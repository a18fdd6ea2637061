#include "pipeline/metrics.h"

#include <array>

namespace uc::pipeline {
namespace {

using SourceField = std::atomic<std::uint64_t> SourceCounters::*;
using LaneField = std::atomic<std::uint64_t> LaneCounters::*;

// A counter of a source: its /api/status key and its family (null: status only).
struct SourceCounter {
  SourceField field;
  const char* json_key;
  const char* metric;
  const char* help;
  bool gauge = false;  // a level that can fall back, not a monotonic count
};
constexpr SourceCounter kSourceCounters[] = {
    {&SourceCounters::received, "records_received", "uc_records_received_total", "Samples received from a source."},
    {&SourceCounters::normalized, "records_normalized", "uc_records_normalized_total",
     "Samples turned into normalized records."},
    {&SourceCounters::batches, "batches", nullptr, nullptr},
    {&SourceCounters::reconnections, "reconnections", "uc_reconnections_total",
     "Reconnection attempts made by a source."},
    {&SourceCounters::errors, "errors", "uc_source_errors_total",
     "Errors reported by a source (reads, decoding, protocol)."},
    {&SourceCounters::path_collisions, "path_collisions", "uc_tag_path_collisions",
     "Tags of a source whose tag path was taken by another tag (given a suffixed path).", true},
};

// A counter of a lane: its /api/status key and its family; `reason` puts it under
// "records_dropped" in the status and in uc_records_dropped_total{reason} in the metrics.
struct LaneCounter {
  LaneField field;
  const char* json_key;
  const char* metric;
  const char* help;
  const char* reason = nullptr;
};
constexpr const char* kDroppedHelp = "Records dropped by a configured policy, by reason.";
constexpr LaneCounter kLaneCounters[] = {
    {&LaneCounters::enqueued, "records_enqueued", "uc_records_enqueued_total",
     "Records accepted into a target's buffer."},
    {&LaneCounters::delivered, "records_delivered", "uc_records_delivered_total",
     "Records acknowledged as durable by a target's sink."},
    {&LaneCounters::dropped_oldest, "oldest", "uc_records_dropped_total", kDroppedHelp, "drop_oldest"},
    {&LaneCounters::dropped_newest, "newest", "uc_records_dropped_total", kDroppedHelp, "drop_newest"},
    {&LaneCounters::dropped_shutdown, "shutdown", "uc_records_dropped_total", kDroppedHelp, "shutdown"},
    {&LaneCounters::rejected, "rejected", "uc_records_dropped_total", kDroppedHelp, "rejected"},
    {&LaneCounters::corrupt, "corrupt", "uc_records_dropped_total", kDroppedHelp, "corrupt"},
    {&LaneCounters::spooled, "records_spooled", "uc_records_spooled_total",
     "Records written to the target's disk spool."},
    {&LaneCounters::dead_lettered, "records_dead_lettered", "uc_records_dead_lettered_total",
     "Records a sink rejected for good, written to the target's DLQ."},
    {&LaneCounters::batches_sent, "batches_sent", "uc_batches_sent_total", "Batches acknowledged by a target's sink."},
    {&LaneCounters::batches_failed, "batches_failed", "uc_batches_failed_total",
     "Batch delivery attempts that failed."},
};

constexpr std::array<ComponentState, 5> kStates = {ComponentState::kStopped, ComponentState::kConnecting,
                                                   ComponentState::kConnected, ComponentState::kDegraded,
                                                   ComponentState::kFailed};

void bind_source(const Pipeline& p, const Pipeline::SourceView& s, telemetry::MetricsRegistry& r) {
  const std::shared_ptr<const SourceCounters> c = s.counters;
  const telemetry::LabelValues l{s.name};
  for (const auto& f : kSourceCounters) {
    if (f.metric == nullptr) continue;
    const SourceField field = f.field;
    if (f.gauge) {
      r.gauge(f.metric, f.help, {"source"}).set_callback(l, [c, field] {
        return static_cast<double>(((*c).*field).load());
      });
    } else {
      r.counter(f.metric, f.help, {"source"}).set_callback(l, [c, field] { return ((*c).*field).load(); });
    }
  }
  for (const auto& extra : s.source->extra_counters()) {
    r.counter("uc_" + extra.name, extra.help, {"source"}).set_callback(l, extra.value);
  }
  auto& state = r.gauge("uc_source_state", "1 for the current state of a source, 0 for the other states.",
                        {"source", "state"});
  for (const ComponentState st : kStates) {
    state.set_callback({s.name, component_state_name(st)}, [&p, name = s.name, st] {
      return p.source_state(name) == st ? 1.0 : 0.0;
    });
  }
}

void bind_lane(const Lane* lane, telemetry::MetricsRegistry& r) {
  // One lane per target x sink: a target mirrored to two sinks has two of everything.
  const LaneCounters* c = &lane->counters();
  const std::string target = lane->target();
  const std::string sink = lane->sink().name();
  for (const auto& f : kLaneCounters) {
    const LaneField field = f.field;
    auto read = [c, field] { return ((*c).*field).load(); };
    if (f.reason != nullptr) {
      r.counter(f.metric, f.help, {"target", "sink", "reason"}).set_callback({target, sink, f.reason}, read);
    } else {
      r.counter(f.metric, f.help, {"target", "sink"}).set_callback({target, sink}, read);
    }
  }
  const telemetry::LabelValues l{target, sink};
  r.gauge("uc_queue_size", "Records waiting in a target's in-memory queue.", {"target", "sink"})
      .set_callback(l, [lane] { return static_cast<double>(lane->queue_size()); });
  r.gauge("uc_queue_capacity", "Capacity of a target's in-memory queue, in records.", {"target", "sink"})
      .set_callback(l, [lane] { return static_cast<double>(lane->queue_capacity()); });
  r.gauge("uc_disk_spooled_bytes", "Bytes held in a target's disk spool.", {"target", "sink"})
      .set_callback(l, [lane] { return static_cast<double>(lane->spool_bytes()); });
  r.gauge("uc_dlq_messages", "Records held in a target's dead-letter queue.", {"target", "sink"})
      .set_callback(l, [lane] { return lane->dlq() ? static_cast<double>(lane->dlq()->count()) : 0.0; });
  r.gauge("uc_circuit_breaker_state", "Circuit breaker of a target: 0 closed, 1 half-open, 2 open.",
          {"target", "sink"})
      .set_callback(l, [lane] { return static_cast<double>(lane->circuit_state()); });
}

}  // namespace

nlohmann::json counters_json(const SourceCounters& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : kSourceCounters) j[f.json_key] = (c.*f.field).load();
  return j;
}

nlohmann::json counters_json(const LaneCounters& c) {
  nlohmann::json j = {{"records_dropped", nlohmann::json::object()}};
  for (const auto& f : kLaneCounters) {
    (f.reason != nullptr ? j["records_dropped"] : j)[f.json_key] = (c.*f.field).load();
  }
  return j;
}

void bind_metrics(const Pipeline& pipeline, telemetry::MetricsRegistry& registry) {
  for (const auto& s : pipeline.sources()) bind_source(pipeline, s, registry);
  for (const Lane* lane : pipeline.lanes()) bind_lane(lane, registry);
}

Status bind_source_metrics(const Pipeline& pipeline, const std::string& name, telemetry::MetricsRegistry& registry) {
  for (const auto& s : pipeline.sources()) {
    if (s.name != name) continue;
    bind_source(pipeline, s, registry);
    return Status::ok();
  }
  return not_found("no source named \"" + name + "\"");
}

}  // namespace uc::pipeline
