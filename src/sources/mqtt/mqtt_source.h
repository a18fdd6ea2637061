// The MQTT source: one broker connection on the source runtime's thread, a thin driver
// of the sans-IO client session (protocols/mqtt/session.h) over a net::Connection
// (TCP, optionally TLS; net/connection.h).
//
// Durable ack (SPEC §4, DESIGN rule 6): a QoS 1 PUBLISH is answered with PUBACK, and a
// QoS 2 PUBLISH with PUBREC, only when the pipeline calls the batch's on_durable (the
// records are in the spool, or delivered when there is no spool). on_durable runs on a
// pipeline thread: it queues the session's AckToken and wakes the connection thread
// (AckInbox, ack_inbox.h), which alone writes to the socket. A batch resolved after its
// connection was lost is not acknowledged: the broker redelivers it to the next
// connection of a persistent session (at-least-once, duplicates possible). Messages
// that cannot be decoded (or a refused Sparkplug birth) are counted, logged with a rate
// limit, written to the DLQ of the source's targets with their topic, payload and reason
// (pipeline::Emitter::dead_letter), and then acknowledged (a redelivery would fail the
// same way). A message over max_packet_bytes is read past
// by the codec without being held, acknowledged, counted (uc_mqtt_oversized_messages_total
// and the source's errors) and logged with its topic and size (rate-limited); with MQTT 5
// the CONNECT's Maximum Packet Size asks the broker not to send such messages at all.
//
// Backpressure: publish() blocks this thread under the `block` policy, so no further
// messages are read or acknowledged and the broker's in-flight window fills up.
//
// Runs on the source runtime (pipeline/source_loop.h): reconnects with its back-off (the
// common keys backoff_initial_ms/backoff_max_ms), which starts again only once a message
// arrives on the new connection (BackoffReset::kOnData), and subscribes again after every
// connect; with clean_session: false the broker keeps the session and queued QoS 1/2
// messages while we are away. A stop cancels a connect, handshake, wait or send at once
// (the stop hook wakes the one net::Waker), then sends STATE offline (Sparkplug host) and
// DISCONNECT with a 1 s deadline of their own.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/source.h"
#include "sources/mqtt/config.h"
#include "sources/mqtt/sparkplug_host.h"

namespace uc::sources::mqtt {

class MqttSource final : public pipeline::Source {
 public:
  MqttSource(std::string name, Options options);

  const std::string& name() const override { return name_; }
  void run(pipeline::SourceContext& ctx) override;
  // Sparkplug B: rebirth requests sent, seq gaps and unknown aliases seen; messages over
  // max_packet_bytes skipped.
  std::vector<pipeline::ExtraCounter> extra_counters() const override;

 private:
  std::string name_;
  Options options_;
  std::shared_ptr<HostCounters> sparkplug_counters_ = std::make_shared<HostCounters>();
  std::shared_ptr<std::atomic<std::uint64_t>> oversized_ = std::make_shared<std::atomic<std::uint64_t>>(0);
};

}  // namespace uc::sources::mqtt
