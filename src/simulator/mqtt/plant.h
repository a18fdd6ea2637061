// What the MQTT simulator publishes, sans-IO (docs/simulator-mqtt.md).
//
// - JSON devices: factory/line1/<device>/<metric> with {"value": v, "timestamp": ms}.
// - A Sparkplug B edge node spBv1.0/<group>/.../<edge> with `devices` devices: NBIRTH
//   (seq 0, bdSeq, Node Control/Rebirth, node metrics with aliases), one DBIRTH per
//   device (metrics with aliases), then DDATA by alias only; seq increases by one per
//   message and wraps 255 → 0. bdSeq starts at 0 and increases with every connect
//   (will_for_connect). NDEATH (bdSeq) is the will. An NCMD Node Control/Rebirth = true
//   answers with NBIRTH (same bdSeq, seq 0) and every DBIRTH.
// Values are functions of time and the publish count, so runs are reproducible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocols/mqtt/codec.h"

namespace uc::simulator::mqtt {

struct Message {
  std::string topic;
  std::vector<std::uint8_t> payload;
  int qos = 0;
  bool retain = false;
};

struct PlantOptions {
  bool json = true;
  bool sparkplug = true;
  std::string group = "sim";
  std::string edge = "sim-edge";
  int devices = 2;
};

class Plant {
 public:
  explicit Plant(PlantOptions options) : o_(std::move(options)) {}

  // The NDEATH will of the next connection; the first connect uses bdSeq 0.
  protocols::mqtt::Will will_for_connect();
  std::vector<std::string> subscriptions() const;
  // NBIRTH + every DBIRTH (after CONNACK, and on a rebirth request).
  std::vector<Message> births(std::int64_t now_ms);
  // One round of values: JSON messages and one DDATA per device.
  std::vector<Message> tick(std::int64_t now_ms);
  // A message on a subscribed topic (NCMD): births when it asks for a rebirth.
  std::vector<Message> on_message(const std::string& topic, const std::vector<std::uint8_t>& payload,
                                  std::int64_t now_ms);

  // NDEATH for an intentional disconnect (the will's payload).
  Message death() const;

  std::uint64_t bdseq() const { return bdseq_; }
  int next_seq() const { return seq_; }
  std::uint64_t rebirths() const { return rebirths_; }

 private:
  std::uint64_t take_seq();
  std::string topic(const char* type, int device) const;

  PlantOptions o_;
  std::uint64_t bdseq_ = 0;
  int connects_ = 0;
  int seq_ = 0;
  std::uint64_t ticks_ = 0;
  std::uint64_t rebirths_ = 0;
};

}  // namespace uc::simulator::mqtt
