// The pipeline's counters in /api/status and in /metrics, from one table each.
//
// SourceCounters and LaneCounters (pipeline.h, lane.h) are the only place these numbers
// are counted. Each field appears once in a table in metrics.cpp with its /api/status key
// and its metric family; counters_json() (used by Pipeline::status()) and bind_metrics()
// are both derived from those tables, so the two outputs cannot drift apart.
//
// Families (labels): per source {source}: uc_records_received_total,
// uc_records_normalized_total, uc_reconnections_total, uc_source_errors_total,
// uc_tag_path_collisions, the sources' own ExtraCounters (uc_<name>), and
// uc_source_state{source,state} (kube-state-metrics style: 1 for the current state, 0 for
// the others). Per lane {target, sink}: uc_records_enqueued_total,
// uc_records_delivered_total, uc_records_dropped_total{reason}, uc_records_spooled_total,
// uc_records_dead_lettered_total, uc_batches_sent_total, uc_batches_failed_total, and the
// gauges uc_queue_size, uc_queue_capacity, uc_disk_spooled_bytes, uc_dlq_messages,
// uc_circuit_breaker_state (0 closed, 1 half-open, 2 open). docs/observability.md lists them.
//
// bind_metrics registers callbacks that read the counters at scrape time (any thread); the
// pipeline must outlive the registry's scrapes.
#pragma once

#include <nlohmann/json.hpp>

#include "pipeline/pipeline.h"
#include "telemetry/metrics.h"

namespace uc::pipeline {

// The counter keys of a source's entry in /api/status.
nlohmann::json counters_json(const SourceCounters& counters);
// The counter keys of a target's (lane's) entry in /api/status.
nlohmann::json counters_json(const LaneCounters& counters);

void bind_metrics(const Pipeline& pipeline, telemetry::MetricsRegistry& registry);
// The metrics of one source added after bind_metrics (kNotFound for an unknown name). A
// removed source's callbacks keep its counters alive and report their last values.
Status bind_source_metrics(const Pipeline& pipeline, const std::string& name, telemetry::MetricsRegistry& registry);

}  // namespace uc::pipeline
