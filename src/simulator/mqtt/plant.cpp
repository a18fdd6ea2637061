#include "simulator/mqtt/plant.h"

#include <cmath>

#include "protocols/sparkplug/payload.h"

namespace uc::simulator::mqtt {
namespace sp = protocols::sparkplug;

namespace {

constexpr const char* kDeviceMetrics[] = {"temperature", "pressure", "running", "count", "state", "spectrum"};
constexpr std::uint32_t kDeviceTypes[] = {sp::kDouble, sp::kFloat, sp::kBoolean, sp::kUInt32, sp::kString,
                                          sp::kFloatArray};
constexpr int kPerDevice = 6;

// Alias layout: 1 = node uptime; device d (0-based) metric k → 100 * (d + 1) + k.
std::uint64_t alias_of(int device, int k) { return static_cast<std::uint64_t>(100 * (device + 1) + k); }

Value device_value(int device, int k, std::int64_t now_ms, std::uint64_t ticks) {
  const double t = static_cast<double>(now_ms) / 1000.0;
  switch (k) {
    case 0: return 60.0 + 5.0 * std::sin(t / 10.0 + device);
    case 1: return static_cast<double>(static_cast<float>(2.0 + 0.5 * std::cos(t / 7.0 + device)));
    case 2: return (static_cast<std::int64_t>(t / 20.0) + device) % 2 == 0;
    case 3: return static_cast<std::int64_t>((ticks + static_cast<std::uint64_t>(device) * 1000) % 4294967296ull);
    case 4: {
      static const char* kStates[] = {"IDLE", "RUNNING", "CLEANING"};
      return std::string(kStates[(static_cast<std::int64_t>(t / 15.0) + device) % 3]);
    }
    default: {
      Array a;
      for (int i = 0; i < 8; ++i) {
        a.items.emplace_back(static_cast<double>(static_cast<float>(std::fabs(std::sin(t + i + device)))));
      }
      return a;
    }
  }
}

sp::OutMetric out_metric(std::optional<std::string> name, std::optional<std::uint64_t> alias, std::uint32_t type,
                         Value v, std::int64_t now_ms, bool with_type) {
  sp::OutMetric m;
  m.name = std::move(name);
  m.alias = alias;
  m.timestamp = static_cast<std::uint64_t>(now_ms);
  if (with_type) m.datatype = type;
  m.value_type = type;
  m.value = std::move(v);
  return m;
}

std::string json_point(const Value& v, std::int64_t now_ms) {
  std::string text = value_to_text(v);
  if (std::holds_alternative<std::string>(v)) text = "\"" + text + "\"";
  return "{\"value\":" + text + ",\"timestamp\":" + std::to_string(now_ms) + "}";
}

}  // namespace

std::string Plant::topic(const char* type, int device) const {
  std::string t = "spBv1.0/" + o_.group + "/" + type + "/" + o_.edge;
  if (device >= 0) t += "/dev" + std::to_string(device + 1);
  return t;
}

std::uint64_t Plant::take_seq() {
  const int s = seq_;
  seq_ = (seq_ + 1) % 256;
  return static_cast<std::uint64_t>(s);
}

Message Plant::death() const {
  sp::OutPayload p;
  p.metrics.push_back(out_metric("bdSeq", std::nullopt, sp::kInt64, static_cast<std::int64_t>(bdseq_), 0, true));
  p.metrics.back().timestamp.reset();
  return {topic("NDEATH", -1), sp::encode_payload(p), 1, false};
}

protocols::mqtt::Will Plant::will_for_connect() {
  if (connects_++ > 0) bdseq_ = (bdseq_ + 1) % 256;
  sp::OutPayload p;
  p.metrics.push_back(out_metric("bdSeq", std::nullopt, sp::kInt64, static_cast<std::int64_t>(bdseq_), 0, true));
  p.metrics.back().timestamp.reset();
  return {topic("NDEATH", -1), sp::encode_payload(p), 1, false};
}

std::vector<std::string> Plant::subscriptions() const {
  if (!o_.sparkplug) return {};
  return {topic("NCMD", -1)};
}

std::vector<Message> Plant::births(std::int64_t now_ms) {
  if (!o_.sparkplug) return {};
  std::vector<Message> out;
  seq_ = 0;
  sp::OutPayload n;
  n.timestamp = static_cast<std::uint64_t>(now_ms);
  n.seq = take_seq();
  n.metrics.push_back(out_metric("bdSeq", std::nullopt, sp::kInt64, static_cast<std::int64_t>(bdseq_), now_ms, true));
  n.metrics.push_back(out_metric("Node Control/Rebirth", std::nullopt, sp::kBoolean, false, now_ms, true));
  n.metrics.push_back(out_metric("uptime_s", 1, sp::kInt64, std::int64_t{0}, now_ms, true));
  out.push_back({topic("NBIRTH", -1), sp::encode_payload(n), 0, false});
  for (int d = 0; d < o_.devices; ++d) {
    sp::OutPayload b;
    b.timestamp = static_cast<std::uint64_t>(now_ms);
    b.seq = take_seq();
    for (int k = 0; k < kPerDevice; ++k) {
      b.metrics.push_back(out_metric(kDeviceMetrics[k], alias_of(d, k), kDeviceTypes[k],
                                     device_value(d, k, now_ms, ticks_), now_ms, true));
    }
    out.push_back({topic("DBIRTH", d), sp::encode_payload(b), 0, false});
  }
  return out;
}

std::vector<Message> Plant::tick(std::int64_t now_ms) {
  std::vector<Message> out;
  ++ticks_;
  if (o_.json) {
    for (int d = 0; d < o_.devices; ++d) {
      const std::string base = "factory/line1/press" + std::to_string(d + 1) + "/";
      for (int k = 0; k < 5; ++k) {  // the scalar metrics
        const std::string text = json_point(device_value(d, k, now_ms, ticks_), now_ms);
        out.push_back({base + kDeviceMetrics[k], std::vector<std::uint8_t>(text.begin(), text.end()), 1, false});
      }
    }
  }
  if (o_.sparkplug) {
    for (int d = 0; d < o_.devices; ++d) {
      sp::OutPayload p;
      p.timestamp = static_cast<std::uint64_t>(now_ms);
      p.seq = take_seq();
      for (int k = 0; k < kPerDevice; ++k) {
        p.metrics.push_back(out_metric(std::nullopt, alias_of(d, k), kDeviceTypes[k],
                                       device_value(d, k, now_ms, ticks_), now_ms, false));
      }
      out.push_back({topic("DDATA", d), sp::encode_payload(p), 0, false});
    }
  }
  return out;
}

std::vector<Message> Plant::on_message(const std::string& t, const std::vector<std::uint8_t>& payload,
                                       std::int64_t now_ms) {
  if (!o_.sparkplug || t != topic("NCMD", -1)) return {};
  auto p = sp::decode_payload(payload.data(), payload.size());
  if (!p) return {};
  for (const auto& m : p->metrics) {
    if (m.name && *m.name == "Node Control/Rebirth" && m.field == sp::ValueField::kBoolean && m.bool_value) {
      ++rebirths_;
      return births(now_ms);
    }
  }
  return {};
}

}  // namespace uc::simulator::mqtt
