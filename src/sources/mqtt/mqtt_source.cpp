#include "sources/mqtt/mqtt_source.h"

#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <random>
#include <vector>

#include "pipeline/source_loop.h"
#include "protocols/mqtt/codec.h"
#include "sources/mqtt/payload.h"
#include "sources/mqtt/sparkplug_host.h"
#include "telemetry/log.h"

namespace uc::sources::mqtt {

namespace wire = protocols::mqtt;

// Acks travel from pipeline threads to the connection thread through this channel; it
// outlives the source when a batch resolves after stop().
struct AckChannel {
  struct Ack {
    std::uint64_t generation;
    std::uint16_t packet_id;
    int qos;
  };
  std::mutex mu;
  std::vector<Ack> pending;
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::atomic<bool> stopping{false};

  ~AckChannel() {
    if (wake_fd >= 0) ::close(wake_fd);
  }
  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }
  void push(Ack a) {
    {
      std::lock_guard lock(mu);
      pending.push_back(a);
    }
    wake();
  }
  std::vector<Ack> take() {
    std::uint64_t v = 0;
    [[maybe_unused]] const ssize_t n = ::read(wake_fd, &v, sizeof v);
    std::lock_guard lock(mu);
    return std::exchange(pending, {});
  }
};

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string ssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

// A TCP connection, optionally TLS (OpenSSL). After the handshake the socket is
// non-blocking, so a TLS read never waits for a whole record or a post-handshake
// message while acks are due; writes wait for POLLOUT.
class Socket {
 public:
  Socket() = default;
  ~Socket() { close(); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  void close() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ssl_ = nullptr;
    ctx_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }
  // Decrypted bytes already buffered: read without waiting for the socket.
  bool pending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

  Status start_tls(const Tls& t, const std::string& host) {
    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return internal_error("TLS: " + ssl_errors());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (!t.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_, t.ca_file.c_str(), nullptr) != 1) {
        return Status(StatusCode::kFailedPrecondition, "TLS: cannot load ca_file " + t.ca_file + ": " + ssl_errors());
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
      return internal_error("TLS: cannot load the system CA store: " + ssl_errors());
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!t.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx_, t.cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx_, t.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(ctx_) != 1) {
        return Status(StatusCode::kFailedPrecondition,
                      "TLS: cannot use cert_file/key_file " + t.cert_file + ": " + ssl_errors());
      }
    }
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return internal_error("TLS: " + ssl_errors());
    in6_addr a6{};
    in_addr a4{};
    const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
    } else {
      // SSL_set_tlsext_host_name, without the macro's C-style cast
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
      SSL_set1_host(ssl_, host.c_str());
    }
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (SSL_connect(ssl_) != 1) {
      const long vr = SSL_get_verify_result(ssl_);
      std::string why = ssl_errors();
      if (vr != X509_V_OK) why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(vr);
      return unavailable("TLS handshake with " + host + ": " + why);
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    return Status::ok();
  }

  // > 0 bytes read; 0 closed by the peer; -1 error (errno or TLS); -2 nothing to read now.
  ssize_t read(std::uint8_t* buf, std::size_t n, std::string& error) {
    if (ssl_ == nullptr) {
      const ssize_t r = ::recv(fd_, buf, n, 0);
      if (r < 0) {
        if (errno == EINTR || errno == EAGAIN) return -2;
        error = std::string("recv: ") + std::strerror(errno);
      }
      return r;
    }
    ERR_clear_error();
    const int r = SSL_read(ssl_, buf, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
    if (r > 0) return r;
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return -2;
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    error = "TLS read: " + ssl_errors();
    return -1;
  }

  Status connect(const std::string& host, int port, int timeout_ms, int wake_fd) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port_text = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
      return unavailable("cannot resolve " + host + ": " + ::gai_strerror(rc));
    }
    Status last = unavailable("no address for " + host);
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        last = unavailable("connect to " + host + ":" + port_text + ": " + std::strerror(errno));
        ::close(fd);
        continue;
      }
      pollfd fds[2] = {{fd, POLLOUT, 0}, {wake_fd, POLLIN, 0}};
      const int n = ::poll(fds, 2, timeout_ms);
      int err = 0;
      socklen_t len = sizeof err;
      if (n <= 0 || (fds[1].revents & POLLIN) != 0) {
        last = unavailable("connect to " + host + ":" + port_text + ": " + (n == 0 ? "timed out" : "interrupted"));
        ::close(fd);
        continue;
      }
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = unavailable("connect to " + host + ":" + port_text + ": " + std::strerror(err));
        ::close(fd);
        continue;
      }
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      ::freeaddrinfo(res);
      return Status::ok();
    }
    ::freeaddrinfo(res);
    return last;
  }

  Status send(const wire::Bytes& b) {
    std::size_t off = 0;
    while (off < b.size()) {
      if (ssl_ != nullptr) {
        ERR_clear_error();
        const int n = SSL_write(ssl_, b.data() + off, static_cast<int>(std::min<std::size_t>(b.size() - off, 1 << 30)));
        if (n > 0) {
          off += static_cast<std::size_t>(n);
          continue;
        }
        const int e = SSL_get_error(ssl_, n);
        if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) return unavailable("TLS write: " + ssl_errors());
        pollfd p{fd_, static_cast<short>(e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
        if (::poll(&p, 1, 10000) == 0) return unavailable("TLS write: timed out");
        continue;
      }
      const ssize_t n = ::send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return unavailable(std::string("send: ") + std::strerror(errno));
      }
      off += static_cast<std::size_t>(n);
    }
    return Status::ok();
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

std::string random_suffix() {
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s += kHex[rd() % 16];
  return s;
}

// One connection's state, on the source thread only.
class Session {
 public:
  Session(const std::string& source_name, const Options& o, pipeline::SourceContext& ctx,
          std::shared_ptr<AckChannel> acks, std::uint64_t generation, telemetry::RateLimitedLog& rlog,
          SparkplugHost& host)
      : source_name_(source_name),
        o_(o),
        ctx_(ctx),
        acks_(std::move(acks)),
        generation_(generation),
        decoder_(o.version, o.max_packet_bytes),
        rlog_(rlog),
        host_(host) {}

  // Runs until the connection fails or stop is requested. connected is set once CONNACK
  // accepted the session.
  Status run(const std::string& client_id) {
    if (Status st = sock_.connect(o_.host, o_.port, 5000, acks_->wake_fd); !st.is_ok()) return st;
    if (o_.tls.enabled) {
      if (Status st = sock_.start_tls(o_.tls, o_.host); !st.is_ok()) return st;
    }
    wire::ConnectOptions c;
    c.version = o_.version;
    c.client_id = client_id;
    c.clean_start = o_.clean_session;
    c.keep_alive_s = static_cast<std::uint16_t>(o_.keep_alive_s);
    c.session_expiry_s = o_.clean_session ? 0 : o_.session_expiry_s;
    if (o_.username.is_set()) c.username = o_.username.value;
    if (o_.password.is_set()) c.password = o_.password.value;
    c.will = host_.will();
    if (Status st = send(wire::encode_connect(c)); !st.is_ok()) return st;

    bool got_connack = false;
    const auto connack_deadline = SteadyClock::now() + std::chrono::seconds(10);
    last_recv_ = SteadyClock::now();
    std::uint8_t buf[65536];
    while (!acks_->stopping.load()) {
      auto now = SteadyClock::now();
      if (!got_connack && now > connack_deadline) return unavailable("no CONNACK within 10 s");
      const auto keep = std::chrono::seconds(o_.keep_alive_s);
      if (got_connack && now - last_send_ >= keep) {
        if (Status st = send(wire::encode_pingreq()); !st.is_ok()) return st;
      }
      if (now - last_recv_ > keep + keep / 2) return unavailable("broker silent for 1.5 x keep_alive");
      pollfd fds[2] = {{sock_.fd(), POLLIN, 0}, {acks_->wake_fd, POLLIN, 0}};
      const bool buffered = sock_.pending();
      const int n = ::poll(fds, 2, buffered ? 0 : 200);
      if (n < 0 && errno != EINTR) return internal_error(std::string("poll: ") + std::strerror(errno));
      if (n <= 0 && !buffered) continue;
      if ((fds[1].revents & POLLIN) != 0) {
        if (Status st = send_acks(); !st.is_ok()) return st;
      }
      if (buffered || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        std::string error;
        const ssize_t r = sock_.read(buf, sizeof buf, error);
        if (r == 0) return unavailable("connection closed by the broker");
        if (r == -2) continue;
        if (r < 0) return unavailable(error);
        last_recv_ = SteadyClock::now();
        decoder_.feed(buf, static_cast<std::size_t>(r));
        while (true) {
          auto p = decoder_.next();
          if (!p.is_ok()) return p.status();
          if (!p->has_value()) break;
          wire::Packet& packet = **p;
          if (!got_connack) {
            if (packet.type != wire::PacketType::kConnack) return unavailable("expected CONNACK");
            if (packet.reason != 0) {
              const bool auth = packet.reason == 4 || packet.reason == 5 || packet.reason == 0x86 ||
                                packet.reason == 0x87;
              return Status(auth ? StatusCode::kUnauthenticated : StatusCode::kUnavailable,
                            "broker refused the connection: " + wire::connack_reason_text(o_.version, packet.reason));
            }
            got_connack = true;
            accepted_ = true;
            if (Status st = subscribe(); !st.is_ok()) return st;
            if (Status st = flush(host_.on_connected()); !st.is_ok()) return st;
            ctx_.connected();
            continue;
          }
          if (Status st = handle(packet); !st.is_ok()) return st;
        }
      }
    }
    // Graceful stop: a DISCONNECT keeps a persistent session and discards the will.
    if (got_connack) {
      for (const auto& m : host_.on_disconnecting()) {
        (void)send(wire::encode_publish(o_.version, m.topic, m.payload.data(), m.payload.size(), 0, m.retain, 0));
      }
      (void)send(wire::encode_disconnect());
    }
    return Status(StatusCode::kCancelled, "stopped");
  }

 private:
  Status send(const wire::Bytes& b) {
    last_send_ = SteadyClock::now();
    return sock_.send(b);
  }

  Status flush(const std::vector<OutgoingMessage>& out) {
    for (const auto& m : out) {
      const std::uint16_t id = m.qos > 0 ? next_id() : 0;
      if (Status st = send(wire::encode_publish(o_.version, m.topic, m.payload.data(), m.payload.size(), m.qos,
                                                m.retain, id));
          !st.is_ok()) {
        return st;
      }
    }
    return Status::ok();
  }

  std::uint16_t next_id() {
    if (++packet_id_ == 0) packet_id_ = 1;
    return packet_id_;
  }

  Status subscribe() {
    std::vector<std::pair<std::string, int>> filters;
    for (const auto& t : o_.topics) filters.emplace_back(t, o_.qos);
    for (const auto& t : host_.subscriptions()) filters.emplace_back(t, 1);
    subscribe_id_ = next_id();
    return send(wire::encode_subscribe(o_.version, subscribe_id_, filters));
  }

  Status send_acks() {
    for (const auto& a : acks_->take()) {
      if (a.generation != generation_) continue;  // that connection is gone; the broker redelivers
      if (a.qos == 1) {
        if (Status st = send(wire::encode_ack(wire::PacketType::kPuback, a.packet_id)); !st.is_ok()) return st;
      } else {
        qos2_[a.packet_id] = true;
        if (Status st = send(wire::encode_ack(wire::PacketType::kPubrec, a.packet_id)); !st.is_ok()) return st;
      }
    }
    return Status::ok();
  }

  // A message (or, with dropped = false, a part of it) that could not be used: counted
  // with its reason as the source's last error, logged with a rate limit.
  void bad_message(const std::string& topic, const Status& st, bool dropped = true) {
    ctx_.count_error(st.message());
    auto logger = telemetry::get_logger("mqtt");
    rlog_.log(*logger, spdlog::level::warn, "decode", "source {}: {} on {}: {}", source_name_,
              dropped ? "dropped message" : "problem in message", printable(topic), st.message());
  }

  static std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s.substr(0, 200)) {
      if (c >= 0x20 && c < 0x7f) {
        out += static_cast<char>(c);
      } else {
        static const char* kHex = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }

  Status ack_now(const wire::Packet& p) {
    if (p.qos == 1) return send(wire::encode_ack(wire::PacketType::kPuback, p.packet_id));
    if (p.qos == 2) {
      qos2_[p.packet_id] = true;
      return send(wire::encode_ack(wire::PacketType::kPubrec, p.packet_id));
    }
    return Status::ok();
  }

  Status handle(wire::Packet& p) {
    switch (p.type) {
      case wire::PacketType::kPublish:
        return handle_publish(p);
      case wire::PacketType::kPubrel:
        qos2_.erase(p.packet_id);
        return send(wire::encode_ack(wire::PacketType::kPubcomp, p.packet_id));
      case wire::PacketType::kPubrec:  // our own QoS 2 publication
        return send(wire::encode_ack(wire::PacketType::kPubrel, p.packet_id));
      case wire::PacketType::kSuback:
        if (p.packet_id == subscribe_id_) {
          for (std::size_t i = 0; i < p.reason_codes.size() && i < o_.topics.size(); ++i) {
            if (p.reason_codes[i] >= 0x80) {
              ctx_.count_error("subscribe");
              ctx_.set_state(pipeline::ComponentState::kDegraded,
                                 "broker refused the subscription to " + o_.topics[i]);
            }
          }
        }
        return Status::ok();
      case wire::PacketType::kDisconnect:
        return unavailable("broker sent DISCONNECT (reason " + std::to_string(p.reason) + ")");
      default:
        return Status::ok();  // PUBACK/PUBCOMP of our publications, PINGRESP, UNSUBACK, AUTH
    }
  }

  Status handle_publish(wire::Packet& p) {
    if (p.qos == 2) {
      const auto it = qos2_.find(p.packet_id);
      if (it != qos2_.end()) {
        // Redelivered before we answered: PUBREC again if the records are already durable.
        if (it->second) return send(wire::encode_ack(wire::PacketType::kPubrec, p.packet_id));
        return Status::ok();
      }
    }
    const TimestampUs now = ctx_.clock().now_us();
    Decoded d = decode(p, now);
    if (Status st = flush(d.outgoing); !st.is_ok()) return st;
    if (!d.samples.is_ok()) {
      bad_message(p.topic, d.samples.status());
      return ack_now(p);
    }
    SampleBatch batch = std::move(*d.samples);
    if (batch.empty()) return ack_now(p);
    if (p.qos == 0) {
      (void)ctx_.publish(std::move(batch));
      return Status::ok();
    }
    if (p.qos == 2) qos2_[p.packet_id] = false;
    auto acks = acks_;
    const AckChannel::Ack ack{generation_, p.packet_id, p.qos};
    (void)ctx_.publish(std::move(batch), [acks, ack](const pipeline::BatchOutcome&) {
      if (!acks->stopping.load()) acks->push(ack);  // at shutdown: leave it to the broker to redeliver
    });
    return Status::ok();
  }

  struct Decoded {
    Result<SampleBatch> samples = SampleBatch{};
    std::vector<OutgoingMessage> outgoing;
  };

  Decoded decode(const wire::Packet& p, TimestampUs now) {
    Decoded d;
    const std::string_view payload(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
    PayloadFormat f = o_.payload_format;
    if (f == PayloadFormat::kAuto) {
      if (p.topic.rfind("spBv1.0/", 0) == 0) {
        f = PayloadFormat::kSparkplugB;
      } else {
        const auto first = payload.find_first_not_of(" \t\r\n");
        f = first != std::string_view::npos && (payload[first] == '{' || payload[first] == '[') ? PayloadFormat::kJson
                                                                                                 : PayloadFormat::kText;
      }
    }
    switch (f) {
      case PayloadFormat::kSparkplugB: {
        HostResult r = host_.handle(p.topic, p.payload.data(), p.payload.size(), now);
        d.outgoing = std::move(r.outgoing);
        for (const auto& e : r.errors) bad_message(p.topic, e, false);
        d.samples = std::move(r.samples);
        return d;
      }
      case PayloadFormat::kJson:
        d.samples = map_json(p.topic, payload, o_.json, now);
        return d;
      default:
        d.samples = map_text(p.topic, payload, now);
        return d;
    }
  }

  const std::string& source_name_;
  const Options& o_;
  pipeline::SourceContext& ctx_;
  std::shared_ptr<AckChannel> acks_;
  std::uint64_t generation_;
  Socket sock_;
  wire::Decoder decoder_;
  telemetry::RateLimitedLog& rlog_;
  SparkplugHost& host_;
  SteadyClock::time_point last_send_ = SteadyClock::now();
  SteadyClock::time_point last_recv_ = SteadyClock::now();
  std::uint16_t packet_id_ = 0;
  std::uint16_t subscribe_id_ = 0;
  std::map<std::uint16_t, bool> qos2_;  // QoS 2 ids received: PUBREC sent?

 public:
  bool accepted() const { return accepted_; }

 private:
  bool accepted_ = false;
};

}  // namespace

MqttSource::MqttSource(std::string name, Options options)
    : name_(std::move(name)), options_(std::move(options)), acks_(std::make_shared<AckChannel>()) {}

std::vector<pipeline::ExtraCounter> MqttSource::extra_counters() const {
  auto c = sparkplug_counters_;
  return {
      {"sparkplug_rebirth_requests_total", "Sparkplug B rebirth requests (NCMD Node Control/Rebirth) sent.",
       [c] { return c->rebirths_requested.load(); }},
      {"sparkplug_seq_gaps_total", "Sparkplug B messages whose seq did not follow the previous one.",
       [c] { return c->seq_gaps.load(); }},
      {"sparkplug_unknown_aliases_total", "Sparkplug B metrics by an alias no birth defined.",
       [c] { return c->unknown_aliases.load(); }},
  };
}

void MqttSource::run(pipeline::SourceContext& ctx) {
  if (acks_->wake_fd < 0) {
    ctx.set_state(pipeline::ComponentState::kFailed, std::string("eventfd: ") + std::strerror(errno));
    return;
  }
  acks_->stopping.store(false);
  auto interrupt = ctx.on_interrupt([acks = acks_] {
    acks->stopping.store(true);
    acks->wake();
  });
  const std::string client_id =
      options_.client_id.empty() ? "uc-" + name_ + "-" + random_suffix() : options_.client_id;
  telemetry::RateLimitedLog rlog(ctx.clock(), 5, std::chrono::seconds(10));
  SparkplugHost host(options_.sparkplug, ctx.clock(), sparkplug_counters_.get());
  std::uint64_t generation = 0;
  ctx.set_state(pipeline::ComponentState::kConnecting);
  while (ctx.wait_to_connect()) {
    Session session(name_, options_, ctx, acks_, ++generation, rlog, host);
    const Status st = session.run(client_id);
    if (acks_->stopping.load()) break;
    host.on_connection_lost();
    // Acks of the lost connection stay queued and are skipped (older generation): the
    // broker redelivers those messages to the next connection.
    ctx.connection_failed(st);
  }
}

}  // namespace uc::sources::mqtt
