#include "protocols/mqtt/codec.h"

#include <algorithm>
#include <cstring>

namespace uc::protocols::mqtt {
namespace {

void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xff));
}

void put_varint(Bytes& out, std::size_t v) {
  do {
    auto byte = static_cast<std::uint8_t>(v % 128);
    v /= 128;
    if (v > 0) byte |= 0x80;
    out.push_back(byte);
  } while (v > 0);
}

void put_string(Bytes& out, std::string_view s) {
  // Callers keep strings below 64 KiB (topic filters are validated at config load).
  const std::size_t n = s.size() > 0xffff ? 0xffff : s.size();
  put_u16(out, static_cast<std::uint16_t>(n));
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

void put_binary(Bytes& out, const std::uint8_t* data, std::size_t size) {
  const std::size_t n = size > 0xffff ? 0xffff : size;
  put_u16(out, static_cast<std::uint16_t>(n));
  out.insert(out.end(), data, data + n);
}

Bytes frame(std::uint8_t first, const Bytes& body) {
  Bytes out;
  out.reserve(body.size() + 5);
  out.push_back(first);
  put_varint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// Bounds-checked reader over one packet body.
class Cursor {
 public:
  Cursor(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  std::size_t left() const { return n_ - i_; }
  bool u8(std::uint8_t& v) {
    if (left() < 1) return false;
    v = p_[i_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (left() < 2) return false;
    v = static_cast<std::uint16_t>((p_[i_] << 8) | p_[i_ + 1]);
    i_ += 2;
    return true;
  }
  bool string(std::string& s) {
    std::uint16_t len = 0;
    if (!u16(len) || left() < len) return false;
    s.assign(reinterpret_cast<const char*>(p_ + i_), len);
    i_ += len;
    return true;
  }
  bool varint(std::size_t& v) {
    v = 0;
    std::size_t mult = 1;
    for (int k = 0; k < 4; ++k) {
      std::uint8_t b = 0;
      if (!u8(b)) return false;
      v += (b & 0x7fu) * mult;
      if ((b & 0x80) == 0) return true;
      mult *= 128;
    }
    return false;  // more than 4 bytes
  }
  bool skip(std::size_t n) {
    if (left() < n) return false;
    i_ += n;
    return true;
  }
  const std::uint8_t* here() const { return p_ + i_; }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t i_ = 0;
};

Status malformed(PacketType t, const char* what) {
  return invalid_argument("malformed MQTT packet type " + std::to_string(static_cast<int>(t)) + ": " + what);
}

bool skip_properties(Cursor& c) {
  std::size_t len = 0;
  return c.varint(len) && c.skip(len);
}

}  // namespace

Bytes encode_connect(const ConnectOptions& o) {
  Bytes b;
  put_string(b, "MQTT");
  b.push_back(static_cast<std::uint8_t>(o.version));
  std::uint8_t flags = 0;
  if (o.clean_start) flags |= 0x02;
  if (o.will) {
    flags |= 0x04;
    flags |= static_cast<std::uint8_t>((o.will->qos & 3) << 3);
    if (o.will->retain) flags |= 0x20;
  }
  if (o.password) flags |= 0x40;
  if (o.username) flags |= 0x80;
  b.push_back(flags);
  put_u16(b, o.keep_alive_s);
  if (o.version == Version::k5) {
    Bytes props;
    if (o.session_expiry_s > 0) {
      props.push_back(0x11);  // Session Expiry Interval
      put_u32(props, o.session_expiry_s);
    }
    if (o.maximum_packet_size > 0) {
      props.push_back(0x27);  // Maximum Packet Size
      put_u32(props, o.maximum_packet_size);
    }
    put_varint(b, props.size());
    b.insert(b.end(), props.begin(), props.end());
  }
  put_string(b, o.client_id);
  if (o.will) {
    if (o.version == Version::k5) b.push_back(0);  // no will properties
    put_string(b, o.will->topic);
    put_binary(b, o.will->payload.data(), o.will->payload.size());
  }
  if (o.username) put_string(b, *o.username);
  if (o.password) put_binary(b, reinterpret_cast<const std::uint8_t*>(o.password->data()), o.password->size());
  return frame(0x10, b);
}

Bytes encode_subscribe(Version v, std::uint16_t packet_id, const std::vector<std::pair<std::string, int>>& filters) {
  Bytes b;
  put_u16(b, packet_id);
  if (v == Version::k5) b.push_back(0);
  for (const auto& [filter, qos] : filters) {
    put_string(b, filter);
    b.push_back(static_cast<std::uint8_t>(qos & 3));
  }
  return frame(0x82, b);
}

Bytes encode_publish(Version v, std::string_view topic, const std::uint8_t* payload, std::size_t size, int qos,
                     bool retain, std::uint16_t packet_id) {
  Bytes b;
  put_string(b, topic);
  if (qos > 0) put_u16(b, packet_id);
  if (v == Version::k5) b.push_back(0);
  if (size > 0) b.insert(b.end(), payload, payload + size);
  const auto first = static_cast<std::uint8_t>(0x30 | ((qos & 3) << 1) | (retain ? 1 : 0));
  return frame(first, b);
}

Bytes encode_ack(PacketType type, std::uint16_t packet_id) {
  Bytes b;
  put_u16(b, packet_id);
  const auto first = static_cast<std::uint8_t>((static_cast<int>(type) << 4) | (type == PacketType::kPubrel ? 2 : 0));
  return frame(first, b);
}

Bytes encode_pingreq() { return {0xc0, 0x00}; }
Bytes encode_disconnect() { return {0xe0, 0x00}; }

std::string connack_reason_text(Version v, std::uint8_t code) {
  if (v == Version::k311) {
    switch (code) {
      case 0: return "accepted";
      case 1: return "unacceptable protocol version";
      case 2: return "identifier rejected";
      case 3: return "server unavailable";
      case 4: return "bad user name or password";
      case 5: return "not authorized";
      default: return "return code " + std::to_string(code);
    }
  }
  switch (code) {
    case 0x00: return "success";
    case 0x84: return "unsupported protocol version";
    case 0x85: return "client identifier not valid";
    case 0x86: return "bad user name or password";
    case 0x87: return "not authorized";
    case 0x88: return "server unavailable";
    case 0x89: return "server busy";
    case 0x8a: return "banned";
    default: return "reason code " + std::to_string(code);
  }
}

Result<Packet> decode_packet(Version version, std::uint8_t first_byte, const std::uint8_t* body, std::size_t size) {
  Packet p;
  const int type = first_byte >> 4;
  if (type < 1 || type > 15) return invalid_argument("malformed MQTT packet: reserved type 0");
  p.type = static_cast<PacketType>(type);
  p.flags = first_byte & 0x0f;
  Cursor c(body, size);
  const bool v5 = version == Version::k5;
  switch (p.type) {
    case PacketType::kConnack: {
      std::uint8_t ack_flags = 0;
      if (!c.u8(ack_flags) || !c.u8(p.reason)) return malformed(p.type, "too short");
      p.session_present = (ack_flags & 1) != 0;
      if (v5 && c.left() > 0 && !skip_properties(c)) return malformed(p.type, "bad properties");
      return p;
    }
    case PacketType::kPublish: {
      p.qos = (p.flags >> 1) & 3;
      if (p.qos == 3) return malformed(p.type, "QoS 3");
      p.retain = (p.flags & 1) != 0;
      p.dup = (p.flags & 8) != 0;
      if (!c.string(p.topic)) return malformed(p.type, "truncated topic");
      if (p.qos > 0) {
        if (!c.u16(p.packet_id)) return malformed(p.type, "truncated packet id");
        if (p.packet_id == 0) return malformed(p.type, "packet id 0");
      }
      if (v5 && !skip_properties(c)) return malformed(p.type, "bad properties");
      p.payload.assign(c.here(), c.here() + c.left());
      return p;
    }
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp:
    case PacketType::kUnsuback:
    case PacketType::kSuback: {
      if (!c.u16(p.packet_id)) return malformed(p.type, "truncated packet id");
      if (p.type == PacketType::kSuback || p.type == PacketType::kUnsuback) {
        if (v5 && !skip_properties(c)) return malformed(p.type, "bad properties");
        while (c.left() > 0) {
          std::uint8_t rc = 0;
          c.u8(rc);
          p.reason_codes.push_back(rc);
        }
        if (p.type == PacketType::kSuback && p.reason_codes.empty()) return malformed(p.type, "no reason codes");
        return p;
      }
      if (v5 && c.left() > 0) {
        c.u8(p.reason);
        if (c.left() > 0 && !skip_properties(c)) return malformed(p.type, "bad properties");
      }
      return p;
    }
    case PacketType::kPingresp:
      return p;
    case PacketType::kDisconnect:
    case PacketType::kAuth:
      if (v5 && c.left() > 0) {
        c.u8(p.reason);
        if (c.left() > 0 && !skip_properties(c)) return malformed(p.type, "bad properties");
      }
      return p;
    default:
      return malformed(p.type, "not expected from a server");
  }
}

void Decoder::feed(const std::uint8_t* data, std::size_t size) {
  const std::size_t discard = std::min(size, skip_left_);  // the rest of an oversized PUBLISH
  skip_left_ -= discard;
  data += discard;
  size -= discard;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536 && pos_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), data, data + size);
}

Result<std::optional<Packet>> Decoder::next() {
  if (skipped_) {
    if (skip_left_ > 0) return std::optional<Packet>();
    return std::exchange(skipped_, std::nullopt);
  }
  const std::size_t avail = buf_.size() - pos_;
  if (avail < 2) return std::optional<Packet>();
  const std::uint8_t* p = buf_.data() + pos_;
  std::size_t len = 0;
  std::size_t mult = 1;
  std::size_t i = 1;
  for (;; ++i) {
    if (i > 4) return invalid_argument("malformed MQTT packet: remaining length longer than 4 bytes");
    if (i >= avail) return std::optional<Packet>();
    len += (p[i] & 0x7fu) * mult;
    mult *= 128;
    if ((p[i] & 0x80) == 0) break;
  }
  const std::size_t header = i + 1;
  if (len > max_packet_) return oversized(header, len);
  if (avail < header + len) return std::optional<Packet>();
  auto packet = decode_packet(version_, p[0], p + header, len);
  pos_ += header + len;
  if (!packet) return packet.status();
  return std::optional<Packet>(std::move(*packet));
}

Result<std::optional<Packet>> Decoder::oversized(std::size_t header, std::size_t len) {
  const std::uint8_t* p = buf_.data() + pos_;
  const std::size_t avail = buf_.size() - pos_;
  Packet packet;
  packet.type = static_cast<PacketType>(p[0] >> 4);
  if (packet.type != PacketType::kPublish) {
    return Status(StatusCode::kResourceExhausted, "MQTT packet of " + std::to_string(len) +
                                                      " bytes exceeds the limit of " + std::to_string(max_packet_));
  }
  packet.flags = p[0] & 0x0f;
  packet.qos = (packet.flags >> 1) & 3;
  if (packet.qos == 3) return malformed(packet.type, "QoS 3");
  packet.retain = (packet.flags & 1) != 0;
  packet.dup = (packet.flags & 8) != 0;
  packet.skipped_bytes = len;
  // The variable header: topic (2 + n bytes) and, for QoS 1/2, the packet id.
  if (avail < header + 2) return std::optional<Packet>();
  const std::size_t topic_len = (static_cast<std::size_t>(p[header]) << 8) | p[header + 1];
  const std::size_t prefix = 2 + topic_len + (packet.qos > 0 ? 2 : 0);
  if (prefix > len) return malformed(packet.type, "truncated topic");
  if (avail < header + prefix) return std::optional<Packet>();
  Cursor c(p + header, prefix);
  c.string(packet.topic);
  if (packet.qos > 0) {
    c.u16(packet.packet_id);
    if (packet.packet_id == 0) return malformed(packet.type, "packet id 0");
  }
  const std::size_t here = std::min(avail - header, len);  // of this packet, already buffered
  pos_ += header + here;
  skip_left_ = len - here;
  skipped_ = std::move(packet);
  return next();
}

}  // namespace uc::protocols::mqtt
