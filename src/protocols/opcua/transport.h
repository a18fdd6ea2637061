// opc.tcp transport, sans-IO: UACP (Hello/Acknowledge/Error, OPC 10000-6 §7.1) and UASC
// secure-conversation chunks (OPN/MSG/CLO, §6.7), with the security policy behind a seam.
//
// - FrameSplitter cuts a TCP byte stream into whole frames; it rejects unknown message
//   types and frames larger than our receive buffer before buffering their bodies.
// - SecureChannel turns a service body into chunks no larger than the peer's receive
//   buffer (and refuses bodies beyond the peer's max message size / chunk count), and
//   turns received chunks back into whole messages, checking the channel id, token,
//   sequence numbers (contiguous; wrap only past UInt32.Max-1024), our chunk-count and
//   message-size limits, and honouring abort ('A') chunks.
// - ChannelSecurity is where signing and encryption plug in (Basic256Sha256 etc., a later
//   issue). NoneSecurity is the only implementation: no signature, no padding.
// Nothing here does I/O or reads a clock; callers pass time in.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "protocols/opcua/encoding.h"

namespace uc::opcua {

inline constexpr std::string_view kSecurityPolicyNone = "http://opcfoundation.org/UA/SecurityPolicy#None";
inline constexpr std::string_view kTransportProfileBinary =
    "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";

// Our side's limits, sent in Hello (client) or Acknowledge (server).
struct TransportLimits {
  std::uint32_t receive_buffer_size = 65536;
  std::uint32_t send_buffer_size = 65536;
  std::uint32_t max_message_size = 16 * 1024 * 1024;  // 0 = no limit
  std::uint32_t max_chunk_count = 4096;               // 0 = no limit
};

// ---- UACP ------------------------------------------------------------------------------
struct HelloMessage {
  std::uint32_t protocol_version = 0;
  TransportLimits limits;
  std::string endpoint_url;
};
struct AcknowledgeMessage {
  std::uint32_t protocol_version = 0;
  TransportLimits limits;
};
struct ErrorMessage {
  std::uint32_t error = 0;  // an OPC UA StatusCode
  std::string reason;
};

std::string encode_hello(const HelloMessage& m);
std::string encode_acknowledge(const AcknowledgeMessage& m);
std::string encode_error(const ErrorMessage& m);
// Each takes a whole frame (header included, as FrameSplitter returns it).
Result<HelloMessage> decode_hello(std::string_view frame);
Result<AcknowledgeMessage> decode_acknowledge(std::string_view frame);
Result<ErrorMessage> decode_error(std::string_view frame);

// The three-letter type of a frame ("HEL", "ACK", "ERR", "OPN", "MSG", "CLO").
inline std::string_view frame_type(std::string_view frame) { return frame.substr(0, 3); }

class FrameSplitter {
 public:
  explicit FrameSplitter(std::uint32_t max_frame_size) : max_frame_size_(max_frame_size) {}
  void set_max_frame_size(std::uint32_t n) { max_frame_size_ = n; }
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, nullopt when more bytes are needed, or an error (unknown
  // type, size below the header or above the limit) after which the connection must close.
  Result<std::optional<std::string>> next();
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::uint32_t max_frame_size_;
  std::string buffer_;
  std::size_t start_ = 0;
};

// ---- security seam ----------------------------------------------------------------------
class ChannelSecurity {
 public:
  virtual ~ChannelSecurity() = default;
  virtual std::string_view policy_uri() const = 0;
  // Certificate fields of the asymmetric header (null for None).
  virtual ByteString sender_certificate() const = 0;
  virtual ByteString receiver_thumbprint() const = 0;
  // Bytes a chunk loses to signature and padding, so bodies can be sized to fit.
  virtual std::size_t overhead(bool asymmetric) const = 0;
  // Secures a chunk in place. On entry the chunk is header, security header, sequence
  // header and body with the size field set for that plain text; `plain_start` is where
  // the encrypted part would begin (the sequence header). On return it is ready to send
  // (size field updated when padding/signature were added).
  virtual Status secure(std::string& chunk, std::size_t plain_start, bool asymmetric) = 0;
  // Verifies (and decrypts) a received chunk in place and strips signature and padding.
  virtual Status unsecure(std::string& chunk, std::size_t plain_start, bool asymmetric) = 0;
};

class NoneSecurity final : public ChannelSecurity {
 public:
  std::string_view policy_uri() const override { return kSecurityPolicyNone; }
  ByteString sender_certificate() const override { return {}; }
  ByteString receiver_thumbprint() const override { return {}; }
  std::size_t overhead(bool) const override { return 0; }
  Status secure(std::string&, std::size_t, bool) override { return Status::ok(); }
  Status unsecure(std::string&, std::size_t, bool) override { return Status::ok(); }
};

// ---- UASC -------------------------------------------------------------------------------
enum class ChunkKind : std::uint8_t { kOpen, kMessage, kClose };

struct ReceivedMessage {
  ChunkKind kind = ChunkKind::kMessage;
  std::uint32_t request_id = 0;
  std::uint32_t channel_id = 0;
  std::uint32_t token_id = 0;     // symmetric chunks
  std::string policy_uri;         // OPN chunks
  std::string body;               // the service message: encoding NodeId + structure
  std::optional<ErrorMessage> abort;  // set when the sender aborted the message ('A' chunk)
};

class SecureChannel {
 public:
  SecureChannel(std::unique_ptr<ChannelSecurity> security, TransportLimits local);

  // From the peer's Hello/Acknowledge: its receive buffer bounds our chunks, its max
  // message size and chunk count bound our messages (0 = no limit).
  void set_peer_limits(const TransportLimits& peer);
  void set_channel(std::uint32_t channel_id, std::uint32_t token_id);
  // During token renewal the previous token stays valid for received chunks.
  void renew_token(std::uint32_t token_id);
  std::uint32_t channel_id() const { return channel_id_; }
  std::uint32_t token_id() const { return token_id_; }

  // Splits `body` into chunks ready to send. Fails (sending nothing) when the body
  // exceeds the peer's max message size or needs more chunks than it accepts.
  Result<std::vector<std::string>> encode(ChunkKind kind, std::uint32_t request_id, std::string_view body);

  // Takes one OPN/MSG/CLO frame. Returns a whole message on its final chunk, nullopt
  // while more chunks are due, or an error after which the channel must be closed.
  Result<std::optional<ReceivedMessage>> receive(std::string frame);

  // Next sequence number we will send (tests use it to check wrap-around).
  std::uint32_t next_sequence_number() const { return send_sequence_; }
  void set_next_sequence_number(std::uint32_t n) { send_sequence_ = n; }

  std::size_t max_body_per_chunk(ChunkKind kind) const;

 private:
  struct Partial {
    ChunkKind kind;
    std::string body;
    std::uint32_t chunks = 0;
  };
  Status check_sequence(std::uint32_t seq);

  std::unique_ptr<ChannelSecurity> security_;
  TransportLimits local_;
  TransportLimits peer_;
  std::uint32_t channel_id_ = 0;
  std::uint32_t token_id_ = 0;
  std::uint32_t previous_token_id_ = 0;
  std::uint32_t send_sequence_ = 1;
  std::optional<std::uint32_t> last_received_sequence_;
  std::map<std::uint32_t, Partial> partial_;  // by request id
};

// ---- service message bodies -------------------------------------------------------------
// A service body is the NodeId of T's binary encoding followed by T.
template <typename T>
std::string encode_service(const T& message) {
  std::string out;
  Encoder e(out);
  encode(e, NodeId(T::kBinaryEncodingId));
  encode(e, message);
  return out;
}

// The encoding id of a received body (0 if it is not a ns=0 numeric NodeId) and the
// decoder positioned after it.
std::uint32_t peek_service_type(std::string_view body);

template <typename T>
Status decode_service(std::string_view body, T& out, const Limits& limits) {
  Decoder d(body, limits);
  NodeId type;
  if (!decode(d, type)) return Status(uc::StatusCode::kDataLoss, "malformed service message: " + d.error());
  if (type != NodeId(T::kBinaryEncodingId)) {
    return Status(uc::StatusCode::kDataLoss, "unexpected service message type " + to_string(type) + " (wanted i=" +
                                             std::to_string(T::kBinaryEncodingId) + ")");
  }
  if (!decode(d, out)) return Status(uc::StatusCode::kDataLoss, "malformed service message: " + d.error());
  return Status::ok();
}

}  // namespace uc::opcua
