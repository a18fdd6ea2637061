#include "protocols/mqtt/session.h"

#include <algorithm>
#include <limits>

namespace uc::protocols::mqtt {
namespace {

const char* packet_name(PacketType t) {
  switch (t) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kConnack:
      return "CONNACK";
    case PacketType::kPublish:
      return "PUBLISH";
    case PacketType::kPuback:
      return "PUBACK";
    case PacketType::kPubrec:
      return "PUBREC";
    case PacketType::kPubrel:
      return "PUBREL";
    case PacketType::kPubcomp:
      return "PUBCOMP";
    case PacketType::kSubscribe:
      return "SUBSCRIBE";
    case PacketType::kSuback:
      return "SUBACK";
    case PacketType::kUnsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::kUnsuback:
      return "UNSUBACK";
    case PacketType::kPingreq:
      return "PINGREQ";
    case PacketType::kPingresp:
      return "PINGRESP";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kAuth:
      return "AUTH";
  }
  return "unknown packet";
}

// CONNACK codes that mean the credentials were wrong or not allowed: 3.1.1 "bad user
// name or password" / "not authorized"; 5 the same two and "bad authentication method".
bool is_auth_refusal(Version v, std::uint8_t code) {
  if (v == Version::k311) return code == 4 || code == 5;
  return code == 0x86 || code == 0x87 || code == 0x8c;
}

constexpr std::uint8_t kFirstFailureCode = 0x80;  // SUBACK / MQTT 5 reason codes

}  // namespace

const char* phase_name(ClientSession::Phase phase) {
  switch (phase) {
    case ClientSession::Phase::kIdle:
      return "idle";
    case ClientSession::Phase::kAwaitingConnack:
      return "awaiting CONNACK";
    case ClientSession::Phase::kConnected:
      return "connected";
    case ClientSession::Phase::kClosed:
      return "closed";
  }
  return "unknown";
}

ClientSession::ClientSession(SessionOptions options) : options_(std::move(options)) {}

Output ClientSession::start(std::int64_t now_us, std::optional<Will> will) {
  ++generation_;
  phase_ = Phase::kAwaitingConnack;
  decoder_.emplace(options_.connect.version, options_.max_packet_bytes);
  outbound_.clear();
  inbound_.clear();
  connack_deadline_us_ = now_us + options_.connack_timeout_us;
  last_heard_us_ = now_us;
  ConnectOptions connect = options_.connect;
  if (will) connect.will = std::move(will);
  connect.maximum_packet_size = static_cast<std::uint32_t>(
      std::min<std::size_t>(options_.max_packet_bytes, std::numeric_limits<std::uint32_t>::max()));
  Output out;
  send(out, PacketType::kConnect, 0, encode_connect(connect), now_us);
  return out;
}

Output ClientSession::on_bytes(const std::uint8_t* data, std::size_t size, std::int64_t now_us) {
  Output out;
  if (phase_ != Phase::kAwaitingConnack && phase_ != Phase::kConnected) return out;
  if (size > 0) last_heard_us_ = now_us;
  decoder_->feed(data, size);
  while (phase_ == Phase::kAwaitingConnack || phase_ == Phase::kConnected) {
    auto packet = decoder_->next();
    if (!packet.is_ok()) {
      fail(out, Failed::Kind::kProtocolError, unavailable(packet.status().message()));
      break;
    }
    if (!packet->has_value()) break;
    handle(out, **packet, now_us);
  }
  return out;
}

Output ClientSession::on_packet(Packet packet, std::int64_t now_us) {
  Output out;
  if (phase_ != Phase::kAwaitingConnack && phase_ != Phase::kConnected) return out;
  last_heard_us_ = now_us;
  handle(out, packet, now_us);
  return out;
}

void ClientSession::handle(Output& out, Packet& p, std::int64_t now_us) {
  if (phase_ == Phase::kAwaitingConnack) {
    if (p.type != PacketType::kConnack) {
      return protocol_error(out, std::string("expected CONNACK, got ") + packet_name(p.type));
    }
    return handle_connack(out, p, now_us);
  }
  switch (p.type) {
    case PacketType::kPublish:
      return handle_publish(out, p, now_us);
    case PacketType::kPuback:
      return release(p.packet_id, Awaiting::kPuback);
    case PacketType::kPubrec:
      return handle_pubrec(out, p, now_us);
    case PacketType::kPubrel:
      return handle_pubrel(out, p, now_us);
    case PacketType::kPubcomp:
      return release(p.packet_id, Awaiting::kPubcomp);
    case PacketType::kSuback:
      return handle_suback(out, p);
    case PacketType::kUnsuback:  // we never unsubscribe: an unknown id, ignored like other stray acks
    case PacketType::kPingresp:  // its arrival already counted as life
      return;
    case PacketType::kDisconnect:
      return fail(out, Failed::Kind::kPeerDisconnected,
                  unavailable("broker sent DISCONNECT (reason " + std::to_string(p.reason) + ")"));
    default:  // a second CONNACK, AUTH (no enhanced authentication was asked for), client packets
      return protocol_error(out, std::string("unexpected ") + packet_name(p.type) + " from the broker");
  }
}

void ClientSession::handle_connack(Output& out, const Packet& p, std::int64_t now_us) {
  const Version v = options_.connect.version;
  if (p.reason != 0) {
    const bool auth = is_auth_refusal(v, p.reason);
    return fail(out, Failed::Kind::kRefused,
                Status(auth ? StatusCode::kUnauthenticated : StatusCode::kUnavailable,
                       "broker refused the connection: " + connack_reason_text(v, p.reason)),
                auth);
  }
  phase_ = Phase::kConnected;
  out.events.emplace_back(Connected{p.session_present});
  if (options_.subscriptions.empty()) return;
  const std::optional<std::uint16_t> id = allocate_packet_id();  // nothing is in flight yet
  outbound_[*id] = Awaiting::kSuback;
  send(out, PacketType::kSubscribe, *id, encode_subscribe(v, *id, options_.subscriptions), now_us);
}

void ClientSession::handle_publish(Output& out, Packet& p, std::int64_t now_us) {
  std::optional<AckToken> token;
  if (p.qos > 0) {
    if (auto it = inbound_.find(p.packet_id); it != inbound_.end()) {
      // The broker may not reuse an id before our ack, so this is a redelivery.
      if (it->second.qos != p.qos) {
        return protocol_error(out, "PUBLISH " + std::to_string(p.packet_id) + " redelivered with QoS " +
                                       std::to_string(p.qos) + " instead of " + std::to_string(it->second.qos));
      }
      if (it->second.pubrec_sent) {
        send(out, PacketType::kPubrec, p.packet_id, encode_ack(PacketType::kPubrec, p.packet_id), now_us);
      }
      return;  // not yet durable: acknowledged once, when the first delivery is
    }
    const Inbound entry{++last_serial_, p.qos, false};
    inbound_[p.packet_id] = entry;
    token = AckToken{generation_, entry.serial, p.packet_id, p.qos};
  }
  if (p.skipped_bytes > 0) {
    out.events.emplace_back(Oversized{std::move(p.topic), p.skipped_bytes, p.qos, token});
  } else {
    out.events.emplace_back(Message{std::move(p.topic), std::move(p.payload), p.qos, p.retain, p.dup, token});
  }
}

void ClientSession::handle_pubrec(Output& out, const Packet& p, std::int64_t now_us) {
  const auto it = outbound_.find(p.packet_id);
  const bool ours = it != outbound_.end() && it->second == Awaiting::kPubrec;
  if (options_.connect.version == Version::k5 && p.reason >= kFirstFailureCode) {
    if (ours) outbound_.erase(it);  // the broker refused the message: the flow ends here
    return;
  }
  if (ours) it->second = Awaiting::kPubcomp;
  send(out, PacketType::kPubrel, p.packet_id, encode_ack(PacketType::kPubrel, p.packet_id), now_us);
}

void ClientSession::handle_pubrel(Output& out, const Packet& p, std::int64_t now_us) {
  if (auto it = inbound_.find(p.packet_id); it != inbound_.end()) {
    if (it->second.qos != 2 || !it->second.pubrec_sent) {
      return protocol_error(out, "PUBREL " + std::to_string(p.packet_id) + " before our PUBREC");
    }
    inbound_.erase(it);
  }
  send(out, PacketType::kPubcomp, p.packet_id, encode_ack(PacketType::kPubcomp, p.packet_id), now_us);
}

void ClientSession::handle_suback(Output& out, const Packet& p) {
  const auto it = outbound_.find(p.packet_id);
  if (it == outbound_.end() || it->second != Awaiting::kSuback) return;
  outbound_.erase(it);
  const auto& filters = options_.subscriptions;
  if (p.reason_codes.size() != filters.size()) {
    return protocol_error(out, "SUBACK has " + std::to_string(p.reason_codes.size()) + " reason codes for " +
                                   std::to_string(filters.size()) + " filters");
  }
  for (std::size_t i = 0; i < filters.size(); ++i) {
    if (p.reason_codes[i] >= kFirstFailureCode) {
      out.events.emplace_back(SubscriptionRefused{filters[i].first, p.reason_codes[i]});
    }
  }
}

void ClientSession::release(std::uint16_t packet_id, Awaiting expected) {
  const auto it = outbound_.find(packet_id);
  if (it != outbound_.end() && it->second == expected) outbound_.erase(it);
}

Output ClientSession::on_durable(const AckToken& token, std::int64_t now_us) {
  Output out;
  if (phase_ != Phase::kConnected) return out;
  // Serials are unique for the session's life, so a token of an earlier connection, or
  // one resolved twice after the broker reused its packet id, matches no entry.
  const auto it = inbound_.find(token.packet_id);
  if (it == inbound_.end() || it->second.serial != token.serial || it->second.pubrec_sent) return out;
  if (it->second.qos == 1) {
    inbound_.erase(it);
    send(out, PacketType::kPuback, token.packet_id, encode_ack(PacketType::kPuback, token.packet_id), now_us);
  } else {
    it->second.pubrec_sent = true;
    send(out, PacketType::kPubrec, token.packet_id, encode_ack(PacketType::kPubrec, token.packet_id), now_us);
  }
  return out;
}

Output ClientSession::on_tick(std::int64_t now_us) {
  Output out;
  if (phase_ == Phase::kAwaitingConnack) {
    if (now_us >= connack_deadline_us_) {
      fail(out, Failed::Kind::kConnackTimeout,
           unavailable("no CONNACK within " + std::to_string(options_.connack_timeout_us / 1000) + " ms"));
    }
    return out;
  }
  const std::int64_t keep = keep_alive_us();
  if (phase_ != Phase::kConnected || keep == 0) return out;
  if (now_us >= last_heard_us_ + keep + keep / 2) {
    fail(out, Failed::Kind::kPeerSilent, unavailable("broker silent for 1.5 x keep_alive"));
  } else if (now_us >= last_sent_us_ + keep) {
    send(out, PacketType::kPingreq, 0, encode_pingreq(), now_us);
  }
  return out;
}

Result<Output> ClientSession::publish(const OutgoingPublish& m, std::int64_t now_us) {
  if (phase_ != Phase::kConnected) {
    return Status(StatusCode::kFailedPrecondition, std::string("MQTT publish while ") + phase_name(phase_));
  }
  if (m.qos < 0 || m.qos > 2) return invalid_argument("MQTT publish with QoS " + std::to_string(m.qos));
  std::uint16_t id = 0;
  if (m.qos > 0) {
    const std::optional<std::uint16_t> free = allocate_packet_id();
    if (!free) return Status(StatusCode::kResourceExhausted, "all 65535 MQTT packet ids are in flight");
    id = *free;
    outbound_[id] = m.qos == 1 ? Awaiting::kPuback : Awaiting::kPubrec;
  }
  Output out;
  send(out, PacketType::kPublish, id,
       encode_publish(options_.connect.version, m.topic, m.payload.data(), m.payload.size(), m.qos, m.retain, id),
       now_us);
  return out;
}

Output ClientSession::close(std::int64_t now_us) {
  Output out;
  if (phase_ == Phase::kConnected) send(out, PacketType::kDisconnect, 0, encode_disconnect(), now_us);
  if (phase_ != Phase::kIdle) phase_ = Phase::kClosed;
  return out;
}

void ClientSession::on_connection_lost() {
  if (phase_ != Phase::kIdle) phase_ = Phase::kClosed;
}

std::optional<std::int64_t> ClientSession::next_deadline() const {
  if (phase_ == Phase::kAwaitingConnack) return connack_deadline_us_;
  const std::int64_t keep = keep_alive_us();
  if (phase_ != Phase::kConnected || keep == 0) return std::nullopt;
  return std::min(last_heard_us_ + keep + keep / 2, last_sent_us_ + keep);
}

void ClientSession::send(Output& out, PacketType type, std::uint16_t packet_id, Bytes bytes, std::int64_t now_us) {
  last_sent_us_ = now_us;
  out.sends.push_back(Send{type, packet_id, std::move(bytes)});
}

void ClientSession::fail(Output& out, Failed::Kind kind, Status status, bool auth_failure) {
  phase_ = Phase::kClosed;
  out.events.emplace_back(Failed{kind, std::move(status), auth_failure});
}

void ClientSession::protocol_error(Output& out, const std::string& what) {
  fail(out, Failed::Kind::kProtocolError, unavailable("MQTT protocol error: " + what));
}

std::optional<std::uint16_t> ClientSession::allocate_packet_id() {
  for (int tries = 0; tries < 0xffff; ++tries) {
    last_packet_id_ = static_cast<std::uint16_t>(last_packet_id_ == 0xffff ? 1 : last_packet_id_ + 1);
    if (!outbound_.contains(last_packet_id_)) return last_packet_id_;
  }
  return std::nullopt;
}

std::int64_t ClientSession::keep_alive_us() const {
  return static_cast<std::int64_t>(options_.connect.keep_alive_s) * 1'000'000;
}

}  // namespace uc::protocols::mqtt
