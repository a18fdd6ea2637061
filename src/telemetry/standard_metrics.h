// The connector's standard metric families (SPEC §9), registered once at
// startup and handed to components as plain pointers.
//
// Labels: sources are labelled {source} with the configured source name,
// buffer/sink families {target} with the configured target name.
//
// Source state is exported the kube-state-metrics way: uc_source_state{source,state}
// has one series per state in kSourceStates; the current state is 1, the others 0.
// Queries: `uc_source_state == 1` lists the current states, and
// `sum by (state) (uc_source_state)` counts sources per state.
//
// The circuit breaker is one numeric gauge, uc_circuit_breaker_state{target}:
// 0 = closed, 1 = half-open, 2 = open (bigger is worse, so alerts use `> 0`).
#pragma once

#include <array>
#include <string_view>

#include "telemetry/metrics.h"

namespace uc::telemetry {

// The states of SPEC §4, in the order of pipeline::ComponentState.
enum class SourceState { kStopped, kConnecting, kConnected, kDegraded, kFailed };
inline constexpr std::array<std::string_view, 5> kSourceStates = {"stopped", "connecting", "connected", "degraded",
                                                                  "failed"};  // indexed by SourceState

enum class CircuitState { kClosed = 0, kHalfOpen = 1, kOpen = 2 };

struct StandardMetrics {
  CounterFamily* records_received = nullptr;    // uc_records_received_total{source}
  CounterFamily* records_normalized = nullptr;  // uc_records_normalized_total{source}
  CounterFamily* source_errors = nullptr;       // uc_source_errors_total{source}
  CounterFamily* reconnections = nullptr;       // uc_reconnections_total{source}
  GaugeFamily* source_state = nullptr;          // uc_source_state{source,state}

  CounterFamily* records_enqueued = nullptr;     // uc_records_enqueued_total{target}
  CounterFamily* records_dropped = nullptr;      // uc_records_dropped_total{target,reason}
  CounterFamily* records_delivered = nullptr;    // uc_records_delivered_total{target}
  CounterFamily* batches_sent = nullptr;         // uc_batches_sent_total{target}
  CounterFamily* batches_failed = nullptr;       // uc_batches_failed_total{target}
  GaugeFamily* queue_size = nullptr;             // uc_queue_size{target} (records; usually a callback)
  GaugeFamily* queue_capacity = nullptr;         // uc_queue_capacity{target} (records)
  GaugeFamily* spool_bytes = nullptr;            // uc_disk_spooled_bytes{target}
  GaugeFamily* dlq_messages = nullptr;           // uc_dlq_messages{target}
  GaugeFamily* circuit_breaker_state = nullptr;  // uc_circuit_breaker_state{target}

  // Sets uc_source_state{source,state} to 1 for `state` and 0 for the others.
  // Takes the family lock: call on transitions, not per record.
  void set_source_state(std::string_view source, SourceState state) const;
  void set_circuit_state(std::string_view target, std::string_view sink, CircuitState state) const;
};

// Registers every standard family. Throws std::invalid_argument only if the
// registry already holds a clashing family of the same name (a startup bug).
StandardMetrics register_standard_metrics(MetricsRegistry& registry);

}  // namespace uc::telemetry
