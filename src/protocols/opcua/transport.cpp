#include "protocols/opcua/transport.h"

#include <cstring>

#include "protocols/opcua/generated/status_codes.h"

namespace uc::opcua {
namespace {

constexpr std::size_t kHeaderSize = 8;        // UACP: type, reserved/final, size
constexpr std::size_t kChunkHeaderSize = 12;  // UASC: + secure channel id
constexpr std::size_t kSequenceHeaderSize = 8;
constexpr std::size_t kMaxPartialMessages = 16;
constexpr std::uint32_t kSequenceWrapFloor = 0xFFFFFFFFu - 1024u;
constexpr std::int32_t kMaxReasonLength = 4096;
constexpr std::int32_t kMaxUrlLength = 4096;

Status data_loss(std::string m) { return Status(uc::StatusCode::kDataLoss, std::move(m)); }

void put_u32(std::string& s, std::size_t at, std::uint32_t v) { std::memcpy(s.data() + at, &v, 4); }
std::uint32_t get_u32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}

std::string begin_frame(const char* type) {
  std::string out(type, 3);
  out.push_back('F');
  out.append(4, '\0');
  return out;
}
void finish_frame(std::string& frame) { put_u32(frame, 4, static_cast<std::uint32_t>(frame.size())); }

void encode_limits(Encoder& e, const TransportLimits& l) {
  e.u32(l.receive_buffer_size);
  e.u32(l.send_buffer_size);
  e.u32(l.max_message_size);
  e.u32(l.max_chunk_count);
}
bool decode_limits(Decoder& d, TransportLimits& l) {
  return d.u32(l.receive_buffer_size) && d.u32(l.send_buffer_size) && d.u32(l.max_message_size) &&
         d.u32(l.max_chunk_count);
}

Status check_frame(std::string_view frame, std::string_view type) {
  if (frame.size() < kHeaderSize || frame.substr(0, 3) != type) {
    return data_loss("expected a " + std::string(type) + " message");
  }
  return Status::ok();
}

Limits uacp_limits() {
  Limits l;
  l.max_string_length = kMaxUrlLength;
  return l;
}

}  // namespace

std::string encode_hello(const HelloMessage& m) {
  std::string out = begin_frame("HEL");
  Encoder e(out);
  e.u32(m.protocol_version);
  encode_limits(e, m.limits);
  encode(e, String(m.endpoint_url));
  finish_frame(out);
  return out;
}

std::string encode_acknowledge(const AcknowledgeMessage& m) {
  std::string out = begin_frame("ACK");
  Encoder e(out);
  e.u32(m.protocol_version);
  encode_limits(e, m.limits);
  finish_frame(out);
  return out;
}

std::string encode_error(const ErrorMessage& m) {
  std::string out = begin_frame("ERR");
  Encoder e(out);
  e.u32(m.error);
  encode(e, String(m.reason.substr(0, static_cast<std::size_t>(kMaxReasonLength))));
  finish_frame(out);
  return out;
}

Result<HelloMessage> decode_hello(std::string_view frame) {
  if (auto s = check_frame(frame, "HEL"); !s.is_ok()) return s;
  Limits limits = uacp_limits();
  Decoder d(frame.substr(kHeaderSize), limits);
  HelloMessage m;
  String url;
  if (!d.u32(m.protocol_version) || !decode_limits(d, m.limits) || !decode(d, url)) {
    return data_loss("malformed Hello: " + d.error());
  }
  m.endpoint_url = url.value_or("");
  return m;
}

Result<AcknowledgeMessage> decode_acknowledge(std::string_view frame) {
  if (auto s = check_frame(frame, "ACK"); !s.is_ok()) return s;
  Limits limits = uacp_limits();
  Decoder d(frame.substr(kHeaderSize), limits);
  AcknowledgeMessage m;
  if (!d.u32(m.protocol_version) || !decode_limits(d, m.limits)) return data_loss("malformed Acknowledge: " + d.error());
  // Chunks must at least hold the headers; Part 6 requires 8192 bytes.
  if (m.limits.receive_buffer_size < 8192 || m.limits.send_buffer_size < 8192) {
    return data_loss("Acknowledge with buffer sizes below 8192");
  }
  return m;
}

Result<ErrorMessage> decode_error(std::string_view frame) {
  if (auto s = check_frame(frame, "ERR"); !s.is_ok()) return s;
  Limits limits = uacp_limits();
  Decoder d(frame.substr(kHeaderSize), limits);
  ErrorMessage m;
  String reason;
  if (!d.u32(m.error) || !decode(d, reason)) return data_loss("malformed Error message: " + d.error());
  m.reason = reason.value_or("");
  return m;
}

Result<std::optional<std::string>> FrameSplitter::next() {
  std::string_view avail(buffer_.data() + start_, buffer_.size() - start_);
  if (avail.size() < kHeaderSize) {
    if (start_ > 0) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    return std::optional<std::string>();
  }
  std::string_view type = avail.substr(0, 3);
  if (type != "HEL" && type != "ACK" && type != "ERR" && type != "RHE" && type != "OPN" && type != "MSG" &&
      type != "CLO") {
    return Status(uc::StatusCode::kDataLoss, "unknown message type (Bad_TcpMessageTypeInvalid)");
  }
  char final = avail[3];
  if (final != 'F' && final != 'C' && final != 'A') return data_loss("invalid chunk type byte");
  std::uint32_t size = get_u32(avail, 4);
  if (size < kHeaderSize) return data_loss("message size " + std::to_string(size) + " below the header size");
  if (size > max_frame_size_) {
    return Status(uc::StatusCode::kResourceExhausted, "message size " + std::to_string(size) +
                                                      " exceeds the receive buffer " + std::to_string(max_frame_size_) +
                                                      " (Bad_TcpMessageTooLarge)");
  }
  if (avail.size() < size) return std::optional<std::string>();
  std::string frame(avail.substr(0, size));
  start_ += size;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return std::optional<std::string>(std::move(frame));
}

SecureChannel::SecureChannel(std::unique_ptr<ChannelSecurity> security, TransportLimits local)
    : security_(std::move(security)), local_(local), peer_(local) {}

void SecureChannel::set_peer_limits(const TransportLimits& peer) { peer_ = peer; }

void SecureChannel::set_channel(std::uint32_t channel_id, std::uint32_t token_id) {
  channel_id_ = channel_id;
  token_id_ = token_id;
  previous_token_id_ = token_id;
}

void SecureChannel::renew_token(std::uint32_t token_id) {
  previous_token_id_ = token_id_;
  token_id_ = token_id;
}

static std::size_t security_header_size(ChunkKind kind, const ChannelSecurity& sec) {
  if (kind != ChunkKind::kOpen) return 4;
  auto bs = [](const ByteString& b) { return 4 + (b.data ? b.data->size() : 0); };
  return 4 + sec.policy_uri().size() + bs(sec.sender_certificate()) + bs(sec.receiver_thumbprint());
}

std::size_t SecureChannel::max_body_per_chunk(ChunkKind kind) const {
  std::size_t fixed = kChunkHeaderSize + security_header_size(kind, *security_) + kSequenceHeaderSize +
                      security_->overhead(kind == ChunkKind::kOpen);
  return peer_.receive_buffer_size > fixed ? peer_.receive_buffer_size - fixed : 0;
}

Result<std::vector<std::string>> SecureChannel::encode(ChunkKind kind, std::uint32_t request_id,
                                                        std::string_view body) {
  if (peer_.max_message_size != 0 && body.size() > peer_.max_message_size) {
    return Status(uc::StatusCode::kResourceExhausted, "request of " + std::to_string(body.size()) +
                                                      " bytes exceeds the peer's max message size " +
                                                      std::to_string(peer_.max_message_size) + " (Bad_RequestTooLarge)");
  }
  std::size_t per_chunk = max_body_per_chunk(kind);
  if (per_chunk == 0) return Status(uc::StatusCode::kFailedPrecondition, "peer receive buffer too small for a chunk");
  std::size_t chunks = body.empty() ? 1 : (body.size() + per_chunk - 1) / per_chunk;
  if (kind != ChunkKind::kMessage && chunks > 1) {
    return Status(uc::StatusCode::kResourceExhausted, "OpenSecureChannel/CloseSecureChannel must fit one chunk");
  }
  if (peer_.max_chunk_count != 0 && chunks > peer_.max_chunk_count) {
    return Status(uc::StatusCode::kResourceExhausted, "request needs " + std::to_string(chunks) +
                                                      " chunks; the peer accepts " +
                                                      std::to_string(peer_.max_chunk_count) + " (Bad_RequestTooLarge)");
  }
  const char* type = kind == ChunkKind::kOpen ? "OPN" : kind == ChunkKind::kMessage ? "MSG" : "CLO";
  std::vector<std::string> out;
  out.reserve(chunks);
  for (std::size_t i = 0; i < chunks; ++i) {
    std::string_view part = body.substr(i * per_chunk, per_chunk);
    std::string c(type, 3);
    c.push_back(i + 1 == chunks ? 'F' : 'C');
    c.append(4, '\0');
    Encoder e(c);
    e.u32(channel_id_);
    if (kind == ChunkKind::kOpen) {
      opcua::encode(e, String(std::string(security_->policy_uri())));
      opcua::encode(e, security_->sender_certificate());
      opcua::encode(e, security_->receiver_thumbprint());
    } else {
      e.u32(token_id_);
    }
    std::size_t plain_start = c.size();
    e.u32(send_sequence_);
    // Wrap per Part 6 §6.7.2.4: past UInt32.Max-1024 restart below 1024.
    send_sequence_ = send_sequence_ >= kSequenceWrapFloor ? 1 : send_sequence_ + 1;
    e.u32(request_id);
    e.bytes(part.data(), part.size());
    put_u32(c, 4, static_cast<std::uint32_t>(c.size()));
    if (auto s = security_->secure(c, plain_start, kind == ChunkKind::kOpen); !s.is_ok()) return s;
    out.push_back(std::move(c));
  }
  return out;
}

Status SecureChannel::check_sequence(std::uint32_t seq) {
  if (last_received_sequence_) {
    std::uint32_t last = *last_received_sequence_;
    bool next = seq == last + 1 || (last >= kSequenceWrapFloor && seq < 1024);
    if (!next) {
      return data_loss("sequence number " + std::to_string(seq) + " does not follow " + std::to_string(last) +
                       " (Bad_SequenceNumberInvalid)");
    }
  }
  last_received_sequence_ = seq;
  return Status::ok();
}

Result<std::optional<ReceivedMessage>> SecureChannel::receive(std::string frame) {
  if (frame.size() < kChunkHeaderSize + 4 + kSequenceHeaderSize) return data_loss("chunk shorter than its headers");
  std::string_view type(frame.data(), 3);
  ChunkKind kind;
  if (type == "OPN") {
    kind = ChunkKind::kOpen;
  } else if (type == "MSG") {
    kind = ChunkKind::kMessage;
  } else if (type == "CLO") {
    kind = ChunkKind::kClose;
  } else {
    return data_loss("not a secure-conversation chunk: " + std::string(type));
  }
  char final = frame[3];
  if (get_u32(frame, 4) != frame.size()) return data_loss("chunk size field does not match its length");
  if (kind != ChunkKind::kMessage && final != 'F') return data_loss("OPN/CLO chunks must be final");
  std::uint32_t channel = get_u32(frame, 8);
  if (channel_id_ != 0 && channel != channel_id_) {
    return data_loss("chunk for secure channel " + std::to_string(channel) + ", ours is " +
                     std::to_string(channel_id_) + " (Bad_TcpSecureChannelUnknown)");
  }

  Limits header_limits;
  header_limits.max_string_length = 65536;  // certificates, policy URIs
  std::string_view rest = std::string_view(frame).substr(kChunkHeaderSize);
  Decoder d(rest, header_limits);
  ReceivedMessage msg;
  msg.kind = kind;
  msg.channel_id = channel;
  if (kind == ChunkKind::kOpen) {
    String uri;
    ByteString cert, thumb;
    if (!decode(d, uri) || !decode(d, cert) || !decode(d, thumb)) {
      return data_loss("malformed asymmetric security header: " + d.error());
    }
    msg.policy_uri = uri.value_or("");
    if (msg.policy_uri != security_->policy_uri()) {
      return data_loss("security policy " + msg.policy_uri + " differs from ours (Bad_SecurityPolicyRejected)");
    }
  } else {
    if (!d.u32(msg.token_id)) return data_loss("truncated symmetric security header");
    if (token_id_ != 0 && msg.token_id != token_id_ && msg.token_id != previous_token_id_) {
      return data_loss("unknown security token " + std::to_string(msg.token_id) +
                       " (Bad_SecureChannelTokenUnknown)");
    }
  }
  std::size_t plain_start = kChunkHeaderSize + (rest.size() - d.remaining());
  if (auto s = security_->unsecure(frame, plain_start, kind == ChunkKind::kOpen); !s.is_ok()) return s;
  if (frame.size() < plain_start + kSequenceHeaderSize) return data_loss("chunk shorter than its sequence header");
  std::uint32_t seq = get_u32(frame, plain_start);
  msg.request_id = get_u32(frame, plain_start + 4);
  if (auto s = check_sequence(seq); !s.is_ok()) return s;
  std::string_view body = std::string_view(frame).substr(plain_start + kSequenceHeaderSize);

  if (final == 'A') {
    partial_.erase(msg.request_id);
    Limits abort_limits;
    abort_limits.max_string_length = kMaxReasonLength;
    Decoder ad(body, abort_limits);
    ErrorMessage err;
    String reason;
    if (!ad.u32(err.error) || !decode(ad, reason)) return data_loss("malformed abort chunk: " + ad.error());
    err.reason = reason.value_or("");
    msg.abort = std::move(err);
    return std::optional<ReceivedMessage>(std::move(msg));
  }

  auto it = partial_.find(msg.request_id);
  if (it == partial_.end()) {
    if (partial_.size() >= kMaxPartialMessages) return data_loss("too many interleaved partial messages");
    it = partial_.emplace(msg.request_id, Partial{kind, {}, 0}).first;
  }
  Partial& p = it->second;
  p.chunks += 1;
  if (local_.max_chunk_count != 0 && p.chunks > local_.max_chunk_count) {
    partial_.erase(it);
    return Status(uc::StatusCode::kResourceExhausted, "message exceeds our max chunk count " +
                                                      std::to_string(local_.max_chunk_count) +
                                                      " (Bad_ResponseTooLarge)");
  }
  if (local_.max_message_size != 0 && p.body.size() + body.size() > local_.max_message_size) {
    partial_.erase(it);
    return Status(uc::StatusCode::kResourceExhausted, "message exceeds our max message size " +
                                                      std::to_string(local_.max_message_size) +
                                                      " (Bad_ResponseTooLarge)");
  }
  p.body.append(body);
  if (final == 'C') return std::optional<ReceivedMessage>();
  msg.body = std::move(p.body);
  partial_.erase(it);
  return std::optional<ReceivedMessage>(std::move(msg));
}

std::uint32_t peek_service_type(std::string_view body) {
  Limits limits;
  Decoder d(body, limits);
  NodeId id;
  if (!decode(d, id) || id.ns != 0 || id.id.index() != 0) return 0;
  return std::get<0>(id.id);
}

}  // namespace uc::opcua
