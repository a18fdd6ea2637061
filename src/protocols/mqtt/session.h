// The MQTT client session of one broker connection, sans-IO: bytes (or decoded packets),
// durability notices and the time go in; packets to send, events and the next deadline
// come out. It never touches a socket, a thread or a clock, so every rule below is
// unit-tested with a fake clock (session_test.cpp). The driver (sources/mqtt) owns the
// connection, writes every Send in order as soon as a call returns, and calls on_tick
// at next_deadline().
//
// Threads: none of its own; not thread-safe. One thread calls everything; acks resolved
// on other threads must be handed to that thread (the driver queues them).
//
// Lifecycle. start() begins a connection: a new generation, the CONNECT to send, and a
// CONNACK deadline. The CONNACK accepts (event Connected, then the SUBSCRIBE of every
// filter) or refuses (event Failed, auth_failure for bad credentials / not authorized).
// Any Failed event closes the session: the driver closes the connection, waits its
// back-off, connects again and calls start(). close() ends a connection gracefully
// (DISCONNECT, which keeps a persistent session and discards the will);
// on_connection_lost() ends it without a word. After either, nothing is sent until the
// next start().
//
// Durable acknowledgement (ADR 0004, house rule 6). A QoS 1/2 PUBLISH yields a Message
// event with an AckToken; the PUBACK (QoS 1) or PUBREC (QoS 2) is sent only when the
// driver passes that token to on_durable(). Until then:
//  - a PUBLISH redelivered with a packet id still waiting for its ack is the same message:
//    no second event; it is acknowledged once, when the first is durable;
//  - for QoS 2, after PUBREC a redelivered PUBLISH is answered with PUBREC again, and
//    PUBREL is answered with PUBCOMP (which frees the id). PUBREL for an id whose PUBREC
//    was never sent is a protocol error; PUBREL for an id we do not know (the release of
//    an earlier connection's message in a persistent session) is answered with PUBCOMP.
// A token of an earlier generation, resolved twice, or resolved after the session
// closed, sends nothing: the broker redelivers unacknowledged messages to the next
// connection of a persistent session (at-least-once; duplicates possible).
//
// Oversized messages. A PUBLISH larger than max_packet_bytes is read past by the codec
// (never held whole) and comes out as an Oversized event with its topic, size and, for
// QoS 1/2, an AckToken handled exactly like a Message's: the driver counts it, logs it
// and passes the token to on_durable, so the broker does not redeliver it forever. With
// MQTT 5 the CONNECT announces max_packet_bytes as Maximum Packet Size, so a conforming
// broker discards such a message instead of sending it.
//
// Keep-alive (keep_alive_s > 0). A PINGREQ is sent when nothing was sent for
// keep_alive_s; the connection fails as PeerSilent when nothing at all was received
// for 1.5 x keep_alive_s (bytes count as life even before their packet is whole).
//
// Our own publications (publish(): Sparkplug STATE and NCMD). QoS 1/2 ones take a packet
// id that stays in flight until PUBACK, or PUBREC then PUBCOMP, on the same connection.
// They are not re-sent on a new connection (MQTT asks that of a persistent session; the
// Sparkplug host sends its STATE again at every connect and NCMDs are QoS 0), and a new
// connection starts with no ids in flight.
//
// Packet ids are allocated from a counter that wraps from 65535 to 1 and skips every id
// still in flight (our publications and the SUBSCRIBE); when all 65535 are in flight
// publish() fails with RESOURCE_EXHAUSTED.
//
// Errors. A malformed packet or an oversized one that is not a PUBLISH (the codec's limits), a packet that may not
// come now (anything before CONNACK, a second CONNACK, AUTH, a client-only packet, a
// SUBACK whose reason codes do not match the filters) is a Failed event of kind
// kProtocolError; a broker DISCONNECT is kPeerDisconnected. Failure statuses are
// UNAVAILABLE (retryable) except a refusal for credentials, which is UNAUTHENTICATED.
// Acks for ids not in flight (PUBACK, PUBCOMP, SUBACK, UNSUBACK) are ignored; PUBREC is
// always answered with PUBREL (unless an MQTT 5 reason code >= 0x80 refuses the message).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"
#include "protocols/mqtt/codec.h"

namespace uc::protocols::mqtt {

struct SessionOptions {
  ConnectOptions connect;  // version, client id, clean start, keep-alive, credentials, will
  // Subscribed after every accepted CONNACK, in one SUBSCRIBE (none when empty).
  std::vector<std::pair<std::string, int>> subscriptions;  // filter, requested QoS
  std::int64_t connack_timeout_us = 10'000'000;
  // Larger incoming PUBLISH packets are skipped (Oversized), others are protocol errors.
  std::size_t max_packet_bytes = 16u << 20;
};

// Names one inbound QoS 1/2 message of one connection; passed back to on_durable.
struct AckToken {
  std::uint64_t generation = 0;  // the connection (start() call) it arrived on, for logs
  std::uint64_t serial = 0;      // unique for the session's life: what on_durable matches
  std::uint16_t packet_id = 0;
  int qos = 0;
};

// A packet to write, in order. type and packet_id say what it is (tests, logs).
struct Send {
  PacketType type = PacketType::kPingreq;
  std::uint16_t packet_id = 0;
  Bytes bytes;
};

struct Connected {
  bool session_present = false;
};

// The broker refused one filter of the SUBSCRIBE (reason code >= 0x80).
struct SubscriptionRefused {
  std::string filter;
  std::uint8_t reason_code = 0;
};

struct Message {
  std::string topic;  // raw bytes as received
  Bytes payload;
  int qos = 0;
  bool retain = false;
  bool dup = false;
  std::optional<AckToken> ack;  // QoS 1/2: pass to on_durable once the records are durable
};

// A PUBLISH over max_packet_bytes: its payload was read past and is gone. Nothing to
// deliver; the ack token (QoS 1/2) must still go to on_durable, or the broker keeps it.
struct Oversized {
  std::string topic;  // raw bytes as received
  std::size_t size = 0;  // the packet's remaining length
  int qos = 0;
  std::optional<AckToken> ack;
};

struct Failed {
  enum class Kind { kProtocolError, kRefused, kConnackTimeout, kPeerSilent, kPeerDisconnected };
  Kind kind = Kind::kProtocolError;
  Status status;              // UNAVAILABLE, or UNAUTHENTICATED for auth_failure
  bool auth_failure = false;  // kRefused for bad user name / password or not authorized
};

using Event = std::variant<Connected, SubscriptionRefused, Message, Oversized, Failed>;

struct Output {
  std::vector<Send> sends;
  std::vector<Event> events;
};

// One of our own publications.
struct OutgoingPublish {
  std::string topic;
  Bytes payload;
  int qos = 0;
  bool retain = false;
};

class ClientSession {
 public:
  enum class Phase { kIdle, kAwaitingConnack, kConnected, kClosed };

  explicit ClientSession(SessionOptions options);

  // A new connection is up: sends CONNECT (with `will` when given, else options' will).
  // Forgets everything of the previous connection.
  Output start(std::int64_t now_us, std::optional<Will> will = std::nullopt);
  // Bytes read from the connection: decoded and handled packet by packet.
  Output on_bytes(const std::uint8_t* data, std::size_t size, std::int64_t now_us);
  // One decoded packet (on_bytes uses it; exposed for tests and other transports).
  Output on_packet(Packet packet, std::int64_t now_us);
  // The records of the message named by token are durable: PUBACK / PUBREC now.
  Output on_durable(const AckToken& token, std::int64_t now_us);
  // Due timers: CONNACK timeout, silence watchdog, PINGREQ.
  Output on_tick(std::int64_t now_us);
  // Sends one publication. FAILED_PRECONDITION unless connected; INVALID_ARGUMENT for a
  // QoS outside 0..2; RESOURCE_EXHAUSTED when no packet id is free.
  Result<Output> publish(const OutgoingPublish& message, std::int64_t now_us);
  // Graceful end: DISCONNECT if the CONNACK had accepted; then closed.
  Output close(std::int64_t now_us);
  // The connection broke (read error, EOF): closed, nothing to send.
  void on_connection_lost();

  // When on_tick must next be called (steady µs); nullopt when no timer runs.
  std::optional<std::int64_t> next_deadline() const;

  Phase phase() const { return phase_; }
  bool connected() const { return phase_ == Phase::kConnected; }
  std::uint64_t generation() const { return generation_; }
  std::size_t inbound_unacknowledged() const { return inbound_.size(); }
  std::size_t outbound_in_flight() const { return outbound_.size(); }

 private:
  enum class Awaiting { kPuback, kPubrec, kPubcomp, kSuback };
  struct Inbound {
    std::uint64_t serial = 0;
    int qos = 0;
    bool pubrec_sent = false;  // QoS 2: durable and answered; waiting for PUBREL
  };

  void send(Output& out, PacketType type, std::uint16_t packet_id, Bytes bytes, std::int64_t now_us);
  void fail(Output& out, Failed::Kind kind, Status status, bool auth_failure = false);
  void protocol_error(Output& out, const std::string& what);
  void handle(Output& out, Packet& packet, std::int64_t now_us);
  void handle_connack(Output& out, const Packet& packet, std::int64_t now_us);
  void handle_publish(Output& out, Packet& packet, std::int64_t now_us);
  void handle_pubrec(Output& out, const Packet& packet, std::int64_t now_us);
  void handle_pubrel(Output& out, const Packet& packet, std::int64_t now_us);
  void handle_suback(Output& out, const Packet& packet);
  void release(std::uint16_t packet_id, Awaiting expected);
  std::optional<std::uint16_t> allocate_packet_id();
  std::int64_t keep_alive_us() const;

  SessionOptions options_;
  Phase phase_ = Phase::kIdle;
  std::uint64_t generation_ = 0;
  std::uint64_t last_serial_ = 0;
  std::uint16_t last_packet_id_ = 0;
  std::optional<Decoder> decoder_;
  std::int64_t connack_deadline_us_ = 0;
  std::int64_t last_sent_us_ = 0;
  std::int64_t last_heard_us_ = 0;
  std::map<std::uint16_t, Awaiting> outbound_;  // our packet ids in flight, the SUBSCRIBE's too
  std::map<std::uint16_t, Inbound> inbound_;    // broker's ids waiting for our ack / PUBREL
};

const char* phase_name(ClientSession::Phase phase);

}  // namespace uc::protocols::mqtt
