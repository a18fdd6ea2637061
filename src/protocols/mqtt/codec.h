// MQTT 3.1.1 and 5.0 client packets, sans-IO: encoders return bytes, the Decoder takes
// bytes as they arrive and returns whole packets.
//
// Why our own codec: the connector must send PUBACK/PUBREC for a QoS 1/2 message only
// after the pipeline reports its records durable (docs/adr/0004-own-mqtt-client.md).
// Debian 12's libmosquitto 2.0.11 and Paho C 1.3.12 both acknowledge inside their
// receive path before the application sees the message.
//
// Limits: every length is checked before it is read; MQTT 5 properties of incoming
// packets are skipped after their lengths are validated. A packet whose remaining length
// exceeds max_packet bytes is an error (the connection must be closed) — except a
// PUBLISH: its topic and packet id are decoded, the rest is discarded as it streams in
// (never buffered), and once its last byte has passed it is returned with an empty
// payload and skipped_bytes set, so the session can acknowledge it and the connection
// goes on. A broker redelivers an unacknowledged message on every reconnect of a
// persistent session, so closing the connection over one would stall the session for good.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace uc::protocols::mqtt {

enum class Version : std::uint8_t { k311 = 4, k5 = 5 };

enum class PacketType : std::uint8_t {
  kConnect = 1, kConnack = 2, kPublish = 3, kPuback = 4, kPubrec = 5, kPubrel = 6, kPubcomp = 7,
  kSubscribe = 8, kSuback = 9, kUnsubscribe = 10, kUnsuback = 11, kPingreq = 12, kPingresp = 13,
  kDisconnect = 14, kAuth = 15,
};

using Bytes = std::vector<std::uint8_t>;

struct Will {
  std::string topic;
  Bytes payload;
  int qos = 0;
  bool retain = false;
};

struct ConnectOptions {
  Version version = Version::k311;
  std::string client_id;
  bool clean_start = true;            // 3.1.1 clean session / 5 clean start
  std::uint16_t keep_alive_s = 30;
  std::uint32_t session_expiry_s = 0;  // MQTT 5 only: 0 ends the session with the connection
  // MQTT 5 only: the Maximum Packet Size property (0: none sent). A v5 broker then never
  // sends a larger packet: it discards such a message as if it had delivered it.
  std::uint32_t maximum_packet_size = 0;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<Will> will;
};

Bytes encode_connect(const ConnectOptions& o);
Bytes encode_subscribe(Version v, std::uint16_t packet_id, const std::vector<std::pair<std::string, int>>& filters);
Bytes encode_publish(Version v, std::string_view topic, const std::uint8_t* payload, std::size_t size, int qos,
                     bool retain, std::uint16_t packet_id);
// PUBACK, PUBREC, PUBREL or PUBCOMP for packet_id (reason code omitted: success).
Bytes encode_ack(PacketType type, std::uint16_t packet_id);
Bytes encode_pingreq();
Bytes encode_disconnect();

struct Packet {
  PacketType type = PacketType::kPingresp;
  std::uint8_t flags = 0;
  // CONNACK
  bool session_present = false;
  std::uint8_t reason = 0;  // CONNACK return/reason code; DISCONNECT reason (5)
  // PUBLISH
  std::string topic;  // raw bytes of the topic name; not checked for UTF-8 here
  Bytes payload;
  int qos = 0;
  bool retain = false;
  bool dup = false;
  // PUBLISH over the decoder's limit: its remaining length (the payload was read past and
  // is empty); 0 for every packet decoded whole.
  std::size_t skipped_bytes = 0;
  // PUBLISH (qos > 0), PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK
  std::uint16_t packet_id = 0;
  // SUBACK: one per filter (granted QoS or failure code >= 0x80)
  std::vector<std::uint8_t> reason_codes;
};

// CONNACK return codes / reason codes as text.
std::string connack_reason_text(Version v, std::uint8_t code);

class Decoder {
 public:
  explicit Decoder(Version version, std::size_t max_packet = 16u << 20) : version_(version), max_packet_(max_packet) {}
  void feed(const std::uint8_t* data, std::size_t size);
  // The next whole packet; nullopt when more bytes are needed. After an error the
  // stream is unusable (close the connection).
  Result<std::optional<Packet>> next();
  // Bytes held: at most one packet within the limit, or an oversized PUBLISH's header
  // (topic and packet id, under 64 KiB), plus what arrived after them.
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  // An oversized packet whose fixed header (header bytes, remaining length len) starts at
  // pos_: a PUBLISH starts being skipped once its topic and packet id are buffered.
  Result<std::optional<Packet>> oversized(std::size_t header, std::size_t len);

  Version version_;
  std::size_t max_packet_;
  Bytes buf_;
  std::size_t pos_ = 0;
  std::size_t skip_left_ = 0;      // bytes of the oversized PUBLISH still to discard
  std::optional<Packet> skipped_;  // that PUBLISH, returned once skip_left_ is 0
};

// Parses one packet body (fixed header already removed). Exposed for tests and fuzzing.
Result<Packet> decode_packet(Version version, std::uint8_t first_byte, const std::uint8_t* body, std::size_t size);

}  // namespace uc::protocols::mqtt
