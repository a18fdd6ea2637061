#include "sources/mqtt/sparkplug_host.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "sources/mqtt/config.h"
#include "sources/mqtt/payload.h"

namespace uc::sources::mqtt {
namespace sp = protocols::sparkplug;

namespace {

struct Topic {
  std::string group, type, edge, device;
};

// The bdSeq metric of an NBIRTH or NDEATH (Long or Int), if there is one.
std::optional<std::uint64_t> bdseq_of(const sp::Payload& p) {
  std::optional<std::uint64_t> bd;
  for (const auto& m : p.metrics) {
    if (m.name && *m.name == "bdSeq" && (m.field == sp::ValueField::kLong || m.field == sp::ValueField::kInt)) {
      bd = m.int_bits;
    }
  }
  return bd;
}

std::optional<Topic> parse_topic(const std::string& topic) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = topic.find('/', start);
    parts.push_back(topic.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
    if (parts.size() > 5) return std::nullopt;
  }
  if (parts.size() < 3 || parts[0] != "spBv1.0") return std::nullopt;
  if (parts[1] == "STATE") {
    if (parts.size() != 3) return std::nullopt;
    return Topic{"", "STATE", parts[2], ""};
  }
  if (parts.size() < 4 || parts.size() > 5) return std::nullopt;
  for (const auto& p : parts) {
    if (p.empty()) return std::nullopt;
  }
  return Topic{parts[1], parts[2], parts[3], parts.size() == 5 ? parts[4] : ""};
}

std::string metric_key(const std::string& device, const std::string& name) { return device + '\n' + name; }

bool is_control(const std::string& name) { return name == "bdSeq" || name.rfind("Node Control/", 0) == 0; }

// Why a birth of `device` ("" for NBIRTH) cannot be used, or nullopt. `taken`: the aliases
// of the node's other births, which this one may not reuse (aliases are unique per node).
template <typename AliasMap>
std::optional<std::string> birth_problem(const sp::Payload& p, const std::string& device, const AliasMap& taken) {
  std::map<std::uint64_t, std::string> aliases;  // alias -> metric name, in this birth
  for (const sp::Metric& m : p.metrics) {
    if (m.name && !is_valid_utf8(*m.name)) return "a metric name is not valid UTF-8";
    if (!m.alias) continue;
    const std::string name = m.name.value_or("");
    const auto [it, fresh] = aliases.emplace(*m.alias, name);
    if (!fresh) {
      return "alias " + std::to_string(*m.alias) + " given to both " + it->second + " and " + name;
    }
    const auto other = taken.find(*m.alias);
    if (other != taken.end() && other->second.device != device) {
      return "alias " + std::to_string(*m.alias) + " of " + name + " is already " +
             (other->second.device.empty() ? "" : other->second.device + "/") + other->second.name;
    }
  }
  return std::nullopt;
}

}  // namespace

SparkplugHost::SparkplugHost(const SparkplugOptions& options, const Clock& clock, HostCounters* counters)
    : options_(options), clock_(clock), counters_(counters != nullptr ? counters : &own_counters_) {}

std::string SparkplugHost::state_payload(bool online) const {
  return std::string("{\"online\":") + (online ? "true" : "false") +
         ",\"timestamp\":" + std::to_string(state_timestamp_ms_) + "}";
}

std::optional<protocols::mqtt::Will> SparkplugHost::will() {
  if (options_.host_id.empty()) return std::nullopt;
  state_timestamp_ms_ = static_cast<std::uint64_t>(clock_.now_us() / 1000);
  const std::string text = state_payload(false);
  return protocols::mqtt::Will{"spBv1.0/STATE/" + options_.host_id, {text.begin(), text.end()}, 1, true};
}

std::vector<std::string> SparkplugHost::subscriptions() const {
  if (options_.host_id.empty()) return {};
  return {"spBv1.0/STATE/" + options_.host_id};
}

std::vector<OutgoingMessage> SparkplugHost::on_connected() {
  connected_ = true;
  if (options_.host_id.empty()) return {};
  const std::string text = state_payload(true);
  return {OutgoingMessage{"spBv1.0/STATE/" + options_.host_id, {text.begin(), text.end()}, 1, true}};
}

std::vector<OutgoingMessage> SparkplugHost::on_disconnecting() {
  connected_ = false;
  if (options_.host_id.empty()) return {};
  const std::string text = state_payload(false);
  return {OutgoingMessage{"spBv1.0/STATE/" + options_.host_id, {text.begin(), text.end()}, 1, true}};
}

void SparkplugHost::on_connection_lost() {
  connected_ = false;
  for (auto& [key, node] : nodes_) {
    node.born = false;
    if (node.births_refused > 0) continue;  // its slowed-down rebirth timer goes on
    node.rebirth_sent = false;
    node.last_rebirth_us = 0;
  }
}

std::optional<std::string> SparkplugHost::refused() const {
  for (const auto& [key, node] : nodes_) {
    if (node.births_refused > 0) return node.refused_why;
  }
  return std::nullopt;
}

std::int64_t SparkplugHost::rebirth_interval_us(const Node& node) const {
  std::int64_t ms = options_.rebirth_interval_ms;
  for (int i = 0; i < node.births_refused && ms < kMaxRebirthIntervalMs; ++i) ms *= 2;
  return std::min(ms, kMaxRebirthIntervalMs) * 1000;
}

void SparkplugHost::refuse_birth(Node& node, const std::string& where, const std::string& why, HostResult& out) {
  ++counters_->births_refused;
  ++node.births_refused;
  node.refused_why = "Sparkplug " + where + " refused: " + why;
  out.samples = invalid_argument(node.refused_why);
}

void SparkplugHost::request_rebirth(const std::string& group, const std::string& edge, Node& node,
                                   const std::string& why, HostResult& out) {
  out.errors.push_back(invalid_argument("Sparkplug " + group + "/" + edge + ": " + why));
  if (!options_.send_rebirth) return;
  const std::int64_t now = clock_.steady_us();
  if (node.rebirth_sent && now - node.last_rebirth_us < rebirth_interval_us(node)) return;
  node.rebirth_sent = true;
  node.last_rebirth_us = now;
  ++counters_->rebirths_requested;
  sp::OutPayload p;
  p.timestamp = static_cast<std::uint64_t>(clock_.now_us() / 1000);
  sp::OutMetric m;
  m.name = "Node Control/Rebirth";
  m.timestamp = p.timestamp;
  m.datatype = sp::kBoolean;
  m.value_type = sp::kBoolean;
  m.value = true;
  p.metrics.push_back(std::move(m));
  out.outgoing.push_back(OutgoingMessage{"spBv1.0/" + group + "/NCMD/" + edge, sp::encode_payload(p), 0, false});
}

HostResult SparkplugHost::handle(const std::string& topic, const std::uint8_t* data, std::size_t size,
                                 TimestampUs now) {
  HostResult out;
  const auto t = parse_topic(topic);
  if (!t) {
    out.samples = invalid_argument("not a Sparkplug B topic (spBv1.0/<group>/<type>/<edge>[/<device>])");
    return out;
  }
  if (!is_valid_utf8(topic)) {
    out.samples = invalid_argument("topic is not valid UTF-8");
    return out;
  }
  if (t->type == "STATE") {
    // Our own STATE said offline (e.g. the will of an earlier connection): say online again.
    if (!options_.host_id.empty() && t->edge == options_.host_id && connected_) {
      const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.contains("online") && j["online"].is_boolean() &&
          !j["online"].get<bool>()) {
        out.outgoing = on_connected();
      }
    }
    return out;  // other hosts' STATE: nothing to record
  }
  if (t->type == "NCMD" || t->type == "DCMD") return out;  // commands (ours or another host's)
  const bool device_msg = t->type == "DBIRTH" || t->type == "DDATA" || t->type == "DDEATH";
  const bool node_msg = t->type == "NBIRTH" || t->type == "NDATA" || t->type == "NDEATH";
  if ((!device_msg && !node_msg) || device_msg == t->device.empty()) {
    out.samples = invalid_argument("unknown Sparkplug message type or device part in " + t->type);
    return out;
  }
  auto decoded = sp::decode_payload(data, size, limits_);
  if (!decoded) {
    out.samples = decoded.status();
    return out;
  }
  sp::Payload& p = *decoded;
  Node& node = nodes_[t->group + "/" + t->edge];
  const std::string base = "spBv1.0/" + t->group + "/" + t->edge + (t->device.empty() ? "" : "/" + t->device);
  SampleBatch batch;

  auto stale = [&](const std::string& device_filter, bool whole_node, const char* why) {
    for (const auto& [key, e] : node.metrics) {
      if ((!whole_node && e.device != device_filter) || is_control(e.name)) continue;
      Sample s;
      s.address = "spBv1.0/" + t->group + "/" + t->edge + (e.device.empty() ? "" : "/" + e.device) + "#" + e.name;
      s.meta = e.meta;
      s.receive_time = now;
      if (p.timestamp) s.source_time = static_cast<TimestampUs>(*p.timestamp) * 1000;
      s.status.kind = ProtocolStatus::Kind::kStale;
      s.status.text = why;
      batch.push_back(std::move(s));
    }
  };

  if (t->type == "NDEATH") {
    const std::optional<std::uint64_t> bd = bdseq_of(p);
    if (bd && node.bdseq && *bd != *node.bdseq) {
      ++counters_->stale_deaths_ignored;
      out.errors.push_back(invalid_argument("Sparkplug " + t->group + "/" + t->edge + ": NDEATH bdSeq " +
                                            std::to_string(*bd) + " does not match the NBIRTH's " +
                                            std::to_string(*node.bdseq) + "; ignored"));
      return out;
    }
    stale({}, true, "NDEATH");
    node.born = false;
    node.devices_born.clear();
    out.samples = std::move(batch);
    return out;
  }

  // seq: NBIRTH resets it; everything else continues it.
  if (!p.seq || *p.seq > 255) {
    out.samples = invalid_argument(t->type + " without a valid seq (0..255)");
    return out;
  }
  const int seq = static_cast<int>(*p.seq);
  const std::string where = t->group + "/" + t->edge + (t->device.empty() ? "" : "/" + t->device) + " " + t->type;
  if (t->type == "NBIRTH") {
    const std::optional<std::string> problem = birth_problem(p, "", std::map<std::uint64_t, AliasEntry>{});
    Node born;
    born.births_refused = node.births_refused;  // the rebirth timer survives a new birth
    born.refused_why = node.refused_why;
    born.rebirth_sent = node.rebirth_sent;
    born.last_rebirth_us = node.last_rebirth_us;
    node = std::move(born);
    if (problem) {
      refuse_birth(node, where, *problem, out);
      return out;
    }
    node.births_refused = 0;
    node.refused_why.clear();
    node.born = true;
    node.last_seq = seq;
    node.bdseq = bdseq_of(p);
    if (seq != 0) out.errors.push_back(invalid_argument("NBIRTH with seq " + std::to_string(seq) + " (expected 0)"));
  } else {
    if (!node.born) {
      request_rebirth(t->group, t->edge, node, t->type + " before NBIRTH", out);
      out.samples = SampleBatch{};
      return out;
    }
    if (seq != (node.last_seq + 1) % 256) {
      ++counters_->seq_gaps;
      request_rebirth(t->group, t->edge, node,
                      "seq gap: expected " + std::to_string((node.last_seq + 1) % 256) + ", got " + std::to_string(seq),
                      out);
    }
    node.last_seq = seq;
  }

  if (t->type == "DBIRTH") {
    // A new DBIRTH replaces that device's metrics.
    std::erase_if(node.metrics, [&](const auto& kv) { return kv.second.device == t->device; });
    std::erase_if(node.aliases, [&](const auto& kv) { return kv.second.device == t->device; });
    if (const auto problem = birth_problem(p, t->device, node.aliases)) {
      node.devices_born.erase(t->device);
      refuse_birth(node, where, *problem, out);
      return out;
    }
    node.births_refused = 0;
    node.refused_why.clear();
    node.devices_born.insert(t->device);
  } else if (t->type == "DDATA" || t->type == "DDEATH") {
    if (node.devices_born.count(t->device) == 0) {
      request_rebirth(t->group, t->edge, node, t->type + " from device " + t->device + " before its DBIRTH", out);
      out.samples = SampleBatch{};
      return out;
    }
  }
  if (t->type == "DDEATH") {
    stale(t->device, false, "DDEATH");
    node.devices_born.erase(t->device);
    out.samples = std::move(batch);
    return out;
  }

  const Message msg{t->group, t->edge, t->device, t->type, base, t->type == "NBIRTH" || t->type == "DBIRTH"};
  batch.reserve(p.metrics.size());
  for (const sp::Metric& m : p.metrics) {
    AliasEntry born;
    const AliasEntry* entry = resolve_metric(msg, node, m, born, out);
    if (entry == nullptr || is_control(entry->name)) continue;
    if (auto sample = to_sample(msg, *entry, m, p, now, out)) batch.push_back(std::move(*sample));
  }
  out.samples = std::move(batch);
  return out;
}

const SparkplugHost::AliasEntry* SparkplugHost::resolve_metric(const Message& msg, Node& node, const sp::Metric& m,
                                                               AliasEntry& born, HostResult& out) {
  if (msg.birth) {
    if (!m.name || !m.datatype) {
      out.errors.push_back(invalid_argument(msg.type + " metric without name or datatype"));
      return nullptr;
    }
    born.device = msg.device;
    born.name = *m.name;
    born.datatype = *m.datatype;
    auto meta = std::make_shared<TagMeta>();
    meta->data_type = sp::datatype_name(*m.datatype);
    meta->name_path = msg.base + "/" + *m.name;
    born.meta = std::move(meta);
    node.metrics[metric_key(msg.device, *m.name)] = born;
    if (m.alias) node.aliases[*m.alias] = born;
    return &born;
  }
  if (m.alias && !m.name) {
    const auto it = node.aliases.find(*m.alias);
    if (it == node.aliases.end() || it->second.device != msg.device) {
      ++counters_->unknown_aliases;
      request_rebirth(msg.group, msg.edge, node, "unknown alias " + std::to_string(*m.alias) + " in " + msg.type, out);
      return nullptr;
    }
    return &it->second;
  }
  if (m.name) {
    const auto it = node.metrics.find(metric_key(msg.device, *m.name));
    if (it == node.metrics.end()) {
      request_rebirth(msg.group, msg.edge, node, "metric " + *m.name + " not in the birth", out);
      return nullptr;
    }
    return &it->second;
  }
  out.errors.push_back(invalid_argument(msg.type + " metric with neither name nor alias"));
  return nullptr;
}

std::optional<Sample> SparkplugHost::to_sample(const Message& msg, const AliasEntry& entry, const sp::Metric& m,
                                               const sp::Payload& p, TimestampUs now, HostResult& out) const {
  const std::uint32_t dt = m.datatype.value_or(entry.datatype);
  auto value = sp::metric_value(m, dt, limits_);
  if (!value) {
    out.errors.push_back(Status(value.status().code(), "metric " + entry.name + ": " + value.status().message()));
    return std::nullopt;
  }
  Sample s;
  s.address = msg.base + "#" + entry.name;
  s.meta = entry.meta;
  s.value = std::move(*value);
  s.receive_time = now;
  if (m.timestamp) {
    s.source_time = static_cast<TimestampUs>(*m.timestamp) * 1000;
  } else if (p.timestamp) {
    s.source_time = static_cast<TimestampUs>(*p.timestamp) * 1000;
  }
  if (m.is_null) {
    s.status.kind = ProtocolStatus::Kind::kSparkplugNull;
  } else if (m.quality) {
    s.status.kind = ProtocolStatus::Kind::kSparkplugQuality;
    s.status.code = static_cast<std::uint32_t>(*m.quality);
  }
  return s;
}

}  // namespace uc::sources::mqtt
