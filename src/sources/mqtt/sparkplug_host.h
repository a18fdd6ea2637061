// The Sparkplug B host application state, sans-IO (SPEC §4; protocols.md §5.3).
//
// Input: the topic and payload of each message under spBv1.0/, and the time. Output:
// samples, messages to publish (rebirth NCMD, STATE), and the errors to count.
//
// - NBIRTH starts a node session: bdSeq is remembered, seq must be 0, the alias table of
//   the node is rebuilt from the NBIRTH and the DBIRTHs that follow (aliases are unique
//   across the node and its devices).
// - Every message after NBIRTH (DBIRTH, NDATA, DDATA, DDEATH) must carry the previous
//   seq + 1 (mod 256). A gap, data from a node or device without a birth, or an unknown
//   alias request a rebirth (NCMD "Node Control/Rebirth" = true, QoS 0), at most once per
//   rebirth_interval_ms per node, each request counted. Values of the message are still
//   used where their alias is known. We do not wait for reordering: MQTT delivers one
//   publisher's messages in order, so a gap is a loss.
// - A birth (NBIRTH or DBIRTH) that gives one alias to two metrics (within the birth, or a
//   DBIRTH reusing an alias of the node or another device) or has a metric name that is not
//   UTF-8 is refused whole: the message is an error with the reason, counted in
//   births_refused, and the node (NBIRTH) or device (DBIRTH) stays unborn, so its data
//   keeps asking for a rebirth. While a node's births keep being refused, its rebirth
//   interval doubles after each refusal (up to kMaxRebirthIntervalMs), so an edge node
//   that always sends the same bad birth is not asked again and again; refused() names
//   the nodes whose last birth was refused, with the reason, for the source's state.
// - NDEATH whose bdSeq matches the NBIRTH's (or carries none), and DDEATH, turn every
//   known metric of the node (with its devices) or device into a bad-quality sample
//   (ProtocolStatus kStale) and end the session. An NDEATH with another bdSeq belongs to
//   an older session and is ignored (counted).
// - Metric timestamps become source_time (else the payload timestamp); is_null and the
//   "Quality" property become ProtocolStatus kSparkplugNull / kSparkplugQuality.
// - Sample address (what topic rules match): "spBv1.0/<group>/<edge>[/<device>]#<metric>".
//   "bdSeq" and "Node Control/*" metrics are session control, not data: no samples.
// - With host_id set: the MQTT will is STATE {"online":false,"timestamp":T}, and after
//   each connect {"online":true,"timestamp":T} (same T) is published, QoS 1 retained, on
//   spBv1.0/STATE/<host_id>; if that topic ever says offline while we are connected, we
//   publish online again.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/sample.h"
#include "core/status.h"
#include "protocols/mqtt/codec.h"
#include "protocols/sparkplug/payload.h"

namespace uc::sources::mqtt {

struct SparkplugOptions;

struct OutgoingMessage {
  std::string topic;
  std::vector<std::uint8_t> payload;
  int qos = 0;
  bool retain = false;
};

struct HostResult {
  Result<SampleBatch> samples = SampleBatch{};  // error: the whole message was unusable
  std::vector<OutgoingMessage> outgoing;
  std::vector<Status> errors;  // per-metric problems (counted and logged; the rest of the message is used)
};

// Counted by the host's thread, read by the metrics from any thread.
struct HostCounters {
  std::atomic<std::uint64_t> rebirths_requested{0};
  std::atomic<std::uint64_t> seq_gaps{0};
  std::atomic<std::uint64_t> unknown_aliases{0};
  std::atomic<std::uint64_t> stale_deaths_ignored{0};
  std::atomic<std::uint64_t> births_refused{0};
};

class SparkplugHost {
 public:
  // `counters`: where to count (it must outlive the host); the host's own when null.
  SparkplugHost(const SparkplugOptions& options, const Clock& clock, HostCounters* counters = nullptr);

  // The MQTT will for the next CONNECT (STATE offline), or nullopt without host_id.
  std::optional<protocols::mqtt::Will> will();
  // Extra topic filters to subscribe (own STATE topic).
  std::vector<std::string> subscriptions() const;
  std::vector<OutgoingMessage> on_connected();
  std::vector<OutgoingMessage> on_disconnecting();
  // Sessions cannot be trusted across a reconnect: a new birth is needed from every node.
  void on_connection_lost();

  HostResult handle(const std::string& topic, const std::uint8_t* data, std::size_t size, TimestampUs now);

  const HostCounters& counters() const { return *counters_; }
  // The reason the last birth of a node (or one of its devices) was refused, for the first
  // such node; nullopt when every node's last birth was accepted.
  std::optional<std::string> refused() const;

  static constexpr std::int64_t kMaxRebirthIntervalMs = 10 * 60 * 1000;

 private:
  struct AliasEntry {
    std::string device;  // "" for node metrics
    std::string name;
    std::uint32_t datatype = 0;
    std::shared_ptr<const TagMeta> meta;
  };
  struct Node {
    bool born = false;
    std::optional<std::uint64_t> bdseq;
    int last_seq = -1;
    std::map<std::uint64_t, AliasEntry> aliases;
    // metric key ("<device>\n<name>") -> entry, for metrics named in DATA and for deaths
    std::map<std::string, AliasEntry> metrics;
    std::set<std::string> devices_born;
    std::int64_t last_rebirth_us = 0;
    bool rebirth_sent = false;
    int births_refused = 0;   // in a row, for this node or its devices; 0 after one accepted
    std::string refused_why;  // the last refusal's reason while births_refused > 0
  };

  // One BIRTH or DATA message being turned into samples.
  struct Message {
    std::string group, edge, device, type;
    std::string base;  // "spBv1.0/<group>/<edge>[/<device>]", the samples' address prefix
    bool birth = false;
  };
  // The entry a metric refers to: a birth records it (into born and the node); data looks
  // it up by alias or name. Null when refused: an error or a rebirth request is in out.
  const AliasEntry* resolve_metric(const Message& msg, Node& node, const protocols::sparkplug::Metric& m,
                                   AliasEntry& born, HostResult& out);
  // The metric as a sample, or nullopt with the error in out.
  std::optional<Sample> to_sample(const Message& msg, const AliasEntry& entry, const protocols::sparkplug::Metric& m,
                                  const protocols::sparkplug::Payload& p, TimestampUs now, HostResult& out) const;
  void request_rebirth(const std::string& group, const std::string& edge, Node& node, const std::string& why,
                       HostResult& out);
  std::string state_payload(bool online) const;
  // The rebirth interval of a node: rebirth_interval_ms, doubled per refused birth.
  std::int64_t rebirth_interval_us(const Node& node) const;
  // Refuses a birth: counted, remembered on the node, and the message's error.
  void refuse_birth(Node& node, const std::string& where, const std::string& why, HostResult& out);

  const SparkplugOptions& options_;
  const Clock& clock_;
  protocols::sparkplug::Limits limits_;
  std::map<std::string, Node> nodes_;  // "<group>/<edge>"
  HostCounters own_counters_;
  HostCounters* counters_;
  std::uint64_t state_timestamp_ms_ = 0;
  bool connected_ = false;
};

}  // namespace uc::sources::mqtt
