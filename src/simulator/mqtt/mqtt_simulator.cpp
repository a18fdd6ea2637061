#include "simulator/mqtt/mqtt_simulator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "net/connection.h"

namespace uc::simulator::mqtt {
namespace wire = protocols::mqtt;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

MqttSimulator::MqttSimulator(SimulatorOptions options) : o_(std::move(options)) {}

MqttSimulator::~MqttSimulator() { stop(); }

Status MqttSimulator::start() {
  if (Status st = wake_.status(); !st.is_ok()) return st;
  if (thread_.joinable()) return {StatusCode::kFailedPrecondition, "already started"};
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void MqttSimulator::stop() {
  stop_.store(true);
  wake_.wake();
  if (thread_.joinable()) thread_.join();
}

void MqttSimulator::run() {
  Plant plant(o_.plant);
  int delay_ms = 100;
  while (!stop_.load()) {
    const Status st = session(plant);
    if (stop_.load()) break;
    spdlog::warn("simulator: MQTT {}:{}: {}; reconnecting in {} ms", o_.host, o_.port, st.message(), delay_ms);
    (void)net::wait_for(-1, 0, net::deadline_in_ms(delay_ms), &wake_);
    delay_ms = std::min(delay_ms * 2, 5000);
  }
}

Status MqttSimulator::session(Plant& plant) {
  auto connected = net::Connection::connect(o_.host, o_.port, net::kNoDeadline, {}, &wake_);
  if (!connected.is_ok()) return connected.status();
  net::Connection& c = *connected;
  // stop() cuts the connect and the reads short, not a send: the session ends with its goodbye.
  auto send = [&](const wire::Bytes& b) { return c.send_all(b, net::kNoDeadline); };
  wire::ConnectOptions co;
  co.client_id = o_.client_id;
  co.keep_alive_s = 30;
  if (o_.plant.sparkplug) co.will = plant.will_for_connect();
  if (Status st = send(wire::encode_connect(co)); !st.is_ok()) return st;
  wire::Decoder dec(wire::Version::k311);
  std::uint16_t next_id = 0;
  auto id = [&] {
    if (++next_id == 0) next_id = 1;
    return next_id;
  };
  auto publish = [&](const std::vector<Message>& msgs) -> Status {
    wire::Bytes batch;
    for (const auto& m : msgs) {
      const auto b = wire::encode_publish(wire::Version::k311, m.topic, m.payload.data(), m.payload.size(), m.qos,
                                          m.retain, m.qos > 0 ? id() : 0);
      batch.insert(batch.end(), b.begin(), b.end());
    }
    published_.fetch_add(msgs.size());
    return send(batch);
  };
  bool up = false;
  auto last_send = std::chrono::steady_clock::now();
  auto next_tick = std::chrono::steady_clock::now();
  std::uint8_t buf[16384];
  while (!stop_.load()) {
    auto now = std::chrono::steady_clock::now();
    int timeout = 1000;
    if (up) {
      if (now >= next_tick) {
        if (Status st = publish(plant.tick(now_ms())); !st.is_ok()) return st;
        last_send = now;
        next_tick = now + std::chrono::milliseconds(o_.interval_ms);
      }
      if (now - last_send > std::chrono::seconds(15)) {
        if (Status st = send(wire::encode_pingreq()); !st.is_ok()) return st;
        last_send = now;
      }
      timeout = static_cast<int>(std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - std::chrono::steady_clock::now()).count()));
    }
    const net::ReadResult r = c.read_some(std::span(buf), net::deadline_in_ms(timeout), &wake_);
    if (r.kind == net::ReadResult::Kind::kClosed) return unavailable("broker closed the connection");
    if (r.kind == net::ReadResult::Kind::kError) return r.status;
    if (!r.has_data()) continue;  // timed out (the next tick) or stopped
    dec.feed(buf, r.size);
    while (true) {
      auto p = dec.next();
      if (!p.is_ok()) return p.status();
      if (!p->has_value()) break;
      const wire::Packet& pk = **p;
      if (pk.type == wire::PacketType::kConnack) {
        if (pk.reason != 0) return unavailable("CONNACK " + wire::connack_reason_text(wire::Version::k311, pk.reason));
        connects_.fetch_add(1);
        std::vector<std::pair<std::string, int>> subs;
        for (const auto& s : plant.subscriptions()) subs.emplace_back(s, 1);
        if (!subs.empty()) {
          if (Status st = send(wire::encode_subscribe(wire::Version::k311, id(), subs)); !st.is_ok()) return st;
        }
        if (Status st = publish(plant.births(now_ms())); !st.is_ok()) return st;
        up = true;
        next_tick = std::chrono::steady_clock::now();
      } else if (pk.type == wire::PacketType::kPublish) {
        if (pk.qos == 1) (void)send(wire::encode_ack(wire::PacketType::kPuback, pk.packet_id));
        if (pk.qos == 2) (void)send(wire::encode_ack(wire::PacketType::kPubrec, pk.packet_id));
        if (Status st = publish(plant.on_message(pk.topic, pk.payload, now_ms())); !st.is_ok()) return st;
      } else if (pk.type == wire::PacketType::kPubrel) {
        (void)send(wire::encode_ack(wire::PacketType::kPubcomp, pk.packet_id));
      }
    }
  }
  // Intentional disconnect: NDEATH first (the will is discarded by DISCONNECT).
  if (up && o_.plant.sparkplug) (void)publish({plant.death()});
  (void)send(wire::encode_disconnect());
  return Status::ok();
}

}  // namespace uc::simulator::mqtt
