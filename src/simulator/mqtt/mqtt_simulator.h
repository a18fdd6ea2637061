// The MQTT part of the OT simulator: one client connection to a broker on its own
// thread, publishing the Plant's messages every interval_ms (0: as fast as the broker
// takes them), answering rebirth requests, reconnecting with back-off (each connect
// with the next bdSeq). JSON messages go out at QoS 1, Sparkplug at QoS 0 (the spec's
// QoS for births and data); the NDEATH will is QoS 1.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "core/status.h"
#include "net/waker.h"
#include "simulator/mqtt/plant.h"

namespace uc::simulator::mqtt {

struct SimulatorOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  int interval_ms = 1000;
  std::string client_id = "uc-simulator";
  PlantOptions plant;
};

class MqttSimulator {
 public:
  explicit MqttSimulator(SimulatorOptions options);
  ~MqttSimulator();
  MqttSimulator(const MqttSimulator&) = delete;
  MqttSimulator& operator=(const MqttSimulator&) = delete;

  // Starts the thread; the first connection is made there (errors are logged and retried).
  Status start();
  void stop();

  std::uint64_t messages_published() const { return published_.load(); }
  std::uint64_t connects() const { return connects_.load(); }

 private:
  void run();
  Status session(Plant& plant);

  SimulatorOptions o_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  net::Waker wake_;  // stop() cuts every wait of the thread short
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> connects_{0};
};

}  // namespace uc::simulator::mqtt
