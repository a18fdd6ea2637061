#include "telemetry/standard_metrics.h"

#include <cstddef>

namespace uc::telemetry {

StandardMetrics register_standard_metrics(MetricsRegistry& r) {
  StandardMetrics m;
  m.records_received = &r.counter("uc_records_received_total", "Samples received from a source.", {"source"});
  m.records_normalized =
      &r.counter("uc_records_normalized_total", "Samples turned into normalized records.", {"source"});
  m.source_errors =
      &r.counter("uc_source_errors_total", "Errors reported by a source (reads, decoding, protocol).", {"source"});
  m.reconnections = &r.counter("uc_reconnections_total", "Reconnection attempts made by a source.", {"source"});
  m.source_state =
      &r.gauge("uc_source_state", "1 for the current state of a source, 0 for the other states.", {"source", "state"});

  m.records_enqueued = &r.counter("uc_records_enqueued_total", "Records accepted into a target's buffer.", {"target", "sink"});
  m.records_dropped = &r.counter("uc_records_dropped_total", "Records dropped by a configured policy, by reason.",
                                 {"target", "sink", "reason"});
  m.records_delivered =
      &r.counter("uc_records_delivered_total", "Records acknowledged as durable by a target's sink.", {"target", "sink"});
  m.batches_sent = &r.counter("uc_batches_sent_total", "Batches acknowledged by a target's sink.", {"target", "sink"});
  m.batches_failed = &r.counter("uc_batches_failed_total", "Batch delivery attempts that failed.", {"target", "sink"});
  m.queue_size = &r.gauge("uc_queue_size", "Records waiting in a target's in-memory queue.", {"target", "sink"});
  m.queue_capacity = &r.gauge("uc_queue_capacity", "Capacity of a target's in-memory queue, in records.", {"target", "sink"});
  m.spool_bytes = &r.gauge("uc_disk_spooled_bytes", "Bytes held in a target's disk spool.", {"target", "sink"});
  m.dlq_messages = &r.gauge("uc_dlq_messages", "Records held in a target's dead-letter queue.", {"target", "sink"});
  m.circuit_breaker_state =
      &r.gauge("uc_circuit_breaker_state", "Circuit breaker of a target: 0 closed, 1 half-open, 2 open.", {"target", "sink"});
  return m;
}

void StandardMetrics::set_source_state(std::string_view source, SourceState state) const {
  const auto current = static_cast<std::size_t>(state);
  for (std::size_t i = 0; i < kSourceStates.size(); ++i) {
    source_state->with({source, kSourceStates[i]}).set(i == current ? 1.0 : 0.0);
  }
}

void StandardMetrics::set_circuit_state(std::string_view target, std::string_view sink, CircuitState state) const {
  circuit_breaker_state->with({target, sink}).set(static_cast<double>(static_cast<int>(state)));
}

}  // namespace uc::telemetry
