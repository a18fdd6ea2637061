#include "simulator/opcua/opcua_server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <list>
#include <map>
#include <mutex>

#include "net/connection.h"
#include "net/listener.h"
#include "net/waker.h"
#include "protocols/opcua/generated/status_codes.h"
#include "protocols/opcua/transport.h"

namespace uc::simulator::opcua {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr ua::TransportLimits kServerLimits{65536, 65536, 64 * 1024 * 1024, 4096};

}  // namespace

// The reader thread reads `conn` while others send on it under `mu` (one reader and one
// sender at a time: what net::Connection allows without TLS). close_socket() wakes
// `closing`, which ends the reader's wait and any send; the reader then closes `conn`.
struct Connection {
  ConnectionId id = 0;
  net::Connection conn;
  net::Waker closing;
  std::mutex mu;  // channel state and socket writes
  ua::SecureChannel channel{std::make_unique<ua::NoneSecurity>(), kServerLimits};
  bool open = true;
  std::thread reader;

  // Sends a body as MSG chunks; false when the connection is gone or the body too big.
  bool send_message(std::uint32_t request_id, std::string_view body, ua::ChunkKind kind = ua::ChunkKind::kMessage) {
    std::lock_guard lock(mu);
    if (!open) return false;
    auto chunks = channel.encode(kind, request_id, body);
    if (!chunks.is_ok()) {
      spdlog::warn("opcua simulator: cannot send a response: {}", chunks.status().message());
      return false;
    }
    for (const auto& c : chunks.value()) {
      if (!send_all(c)) return false;
    }
    return true;
  }
  // Under mu.
  bool send_all(std::string_view data) { return conn.send_all(data, net::kNoDeadline, &closing).is_ok(); }
  void close_socket() {
    std::lock_guard lock(mu);
    if (open) closing.wake();
    open = false;
  }
};

struct OpcUaServer::Impl {
  ServerOptions options;
  net::Listener listener;
  net::Waker stopping;  // ends the acceptor's wait
  std::mutex core_mu;  // guards core
  std::unique_ptr<ServerCore> core;
  std::mutex conns_mu;
  std::map<ConnectionId, std::shared_ptr<Connection>> conns;
  std::list<std::thread> finished;  // reader threads to join
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> connections{0}, protocol_errors{0};
  std::thread acceptor, engine;
  std::condition_variable engine_cv;
  std::mutex engine_mu;
  ConnectionId next_conn = 1;
  std::atomic<std::uint32_t> next_channel{1};

  void deliver(std::vector<Outgoing>& out) {
    for (auto& o : out) {
      std::shared_ptr<Connection> c;
      {
        std::lock_guard lock(conns_mu);
        const auto it = conns.find(o.connection);
        if (it != conns.end()) c = it->second;
      }
      if (c && !c->send_message(o.request_id, o.body)) c->close_socket();
    }
    out.clear();
  }

  void fail(Connection& c, std::uint32_t code, const std::string& reason) {
    protocol_errors.fetch_add(1);
    spdlog::debug("opcua simulator: closing connection {}: {}", c.id, reason);
    ua::ErrorMessage e{code, reason};
    std::lock_guard lock(c.mu);
    if (c.open) {
      c.send_all(ua::encode_error(e));
      c.closing.wake();
    }
    c.open = false;
  }

  // Reads frames until the peer closes or breaks the protocol.
  void serve(const std::shared_ptr<Connection>& conn) {
    Connection& c = *conn;
    ua::FrameSplitter splitter(kServerLimits.receive_buffer_size);
    bool hello = false;
    char buf[65536];
    std::vector<Outgoing> out;
    for (;;) {
      const net::ReadResult r = c.conn.read_some(std::span(buf), net::kNoDeadline, &c.closing);
      if (!r.has_data()) break;
      splitter.feed(std::string_view(buf, r.size));
      for (;;) {
        auto next = splitter.next();
        if (!next.is_ok()) {
          fail(c, ua::status::kBadTcpMessageTooLarge, next.status().message());
          goto done;
        }
        if (!next.value()) break;
        std::string frame = std::move(*next.value());
        const std::string_view type = ua::frame_type(frame);
        if (!hello) {
          if (type != "HEL") {
            fail(c, ua::status::kBadTcpMessageTypeInvalid, "expected Hello");
            goto done;
          }
          auto h = ua::decode_hello(frame);
          if (!h.is_ok()) {
            fail(c, ua::status::kBadTcpMessageTypeInvalid, h.status().message());
            goto done;
          }
          ua::AcknowledgeMessage ack;
          ack.limits = kServerLimits;
          ack.limits.receive_buffer_size = std::min(kServerLimits.receive_buffer_size, h.value().limits.send_buffer_size);
          ack.limits.send_buffer_size = std::min(kServerLimits.send_buffer_size, h.value().limits.receive_buffer_size);
          {
            std::lock_guard lock(c.mu);
            ua::TransportLimits peer = h.value().limits;
            peer.receive_buffer_size = ack.limits.send_buffer_size;
            c.channel.set_peer_limits(peer);
            if (!c.send_all(ua::encode_acknowledge(ack))) goto done;
          }
          hello = true;
          continue;
        }
        std::unique_lock channel_lock(c.mu);
        auto got = c.channel.receive(std::move(frame));
        channel_lock.unlock();
        if (!got.is_ok()) {
          fail(c, ua::status::kBadSecurityChecksFailed, got.status().message());
          goto done;
        }
        if (!got.value()) continue;
        ua::ReceivedMessage& msg = *got.value();
        if (msg.abort) continue;
        if (msg.kind == ua::ChunkKind::kClose) goto done;
        if (msg.kind == ua::ChunkKind::kOpen) {
          if (!open_channel(c, msg)) goto done;
          continue;
        }
        {
          std::lock_guard lock(core_mu);
          core->handle(c.id, msg.request_id, msg.body, now_us(), out);
        }
        deliver(out);
      }
    }
  done:
    c.close_socket();
    {
      std::lock_guard lock(core_mu);
      core->connection_closed(c.id);
    }
  }

  bool open_channel(Connection& c, const ua::ReceivedMessage& msg) {
    ua::OpenSecureChannelRequest req;
    if (auto s = ua::decode_service(msg.body, req, ua::Limits{}); !s.is_ok()) {
      fail(c, ua::status::kBadDecodingError, s.message());
      return false;
    }
    if (msg.policy_uri != ua::kSecurityPolicyNone || req.security_mode != ua::MessageSecurityMode::kNone) {
      fail(c, ua::status::kBadSecurityPolicyRejected, "only SecurityPolicy None is offered");
      return false;
    }
    ua::OpenSecureChannelResponse resp;
    resp.response_header.timestamp = ua::datetime_from_unix_us(now_us());
    resp.response_header.request_handle = req.request_header.request_handle;
    const std::uint32_t token = next_channel.fetch_add(1);
    {
      std::lock_guard lock(c.mu);
      if (req.request_type == ua::SecurityTokenRequestType::kIssue) {
        if (c.channel.channel_id() != 0) {
          protocol_errors.fetch_add(1);
          return false;
        }
        c.channel.set_channel(token, token);
      } else {
        c.channel.renew_token(token);
      }
      resp.security_token.channel_id = c.channel.channel_id();
    }
    resp.security_token.token_id = token;
    resp.security_token.created_at = resp.response_header.timestamp;
    resp.security_token.revised_lifetime = std::clamp<std::uint32_t>(req.requested_lifetime, 10'000, 3'600'000);
    resp.server_nonce = ua::ByteString{std::string()};
    return c.send_message(msg.request_id, ua::encode_service(resp), ua::ChunkKind::kOpen);
  }

  void accept_loop() {
    while (!stop.load()) {
      auto accepted = listener.accept(net::kNoDeadline, &stopping);
      if (!accepted.is_ok()) {
        if (accepted.status().code() == StatusCode::kCancelled) break;
        // e.g. out of file descriptors: pause rather than spin on the pending connection
        (void)net::wait_for(-1, 0, net::deadline_in_ms(100), &stopping);
        continue;
      }
      std::lock_guard lock(conns_mu);
      if (conns.size() >= options.max_connections) continue;  // closes the accepted connection
      auto c = std::make_shared<Connection>();
      c->id = next_conn++;
      c->conn = std::move(*accepted);
      connections.fetch_add(1);
      conns.emplace(c->id, c);
      c->reader = std::thread([this, c] {
        serve(c);
        std::lock_guard l(conns_mu);
        c->conn.close();
        finished.push_back(std::move(c->reader));
        conns.erase(c->id);
      });
    }
  }

  void engine_loop() {
    std::vector<Outgoing> out;
    std::unique_lock lock(engine_mu);
    while (!stop.load()) {
      engine_cv.wait_for(lock, std::chrono::milliseconds(10));
      {
        std::lock_guard core_lock(core_mu);
        core->tick(now_us(), out);
      }
      deliver(out);
      std::list<std::thread> done;
      {
        std::lock_guard l(conns_mu);
        done.swap(finished);
      }
      for (auto& t : done) t.join();
    }
  }
};

OpcUaServer::OpcUaServer(ServerOptions options) : options_(std::move(options)) {}

OpcUaServer::~OpcUaServer() { stop(); }

std::string OpcUaServer::endpoint_url() const {
  return "opc.tcp://" + options_.host + ":" + std::to_string(port_);
}

Status OpcUaServer::start() {
  auto impl = std::make_unique<Impl>();
  impl->options = options_;
  auto listener = net::Listener::listen(options_.host, options_.port, 64);
  if (!listener.is_ok()) return {listener.status().code(), "opcua simulator: " + listener.status().message()};
  impl->listener = std::move(*listener);
  port_ = impl->listener.port();
  CoreOptions co;
  co.space = options_.space;
  co.endpoint_url = endpoint_url();
  co.user = options_.user;
  co.password = options_.password;
  impl->core = std::make_unique<ServerCore>(std::move(co), now_us());
  Impl* m = impl.get();
  impl->acceptor = std::thread([m] { m->accept_loop(); });
  impl->engine = std::thread([m] { m->engine_loop(); });
  impl_ = std::move(impl);
  return Status::ok();
}

void OpcUaServer::stop() {
  if (!impl_) return;
  impl_->stop.store(true);
  impl_->stopping.wake();
  impl_->engine_cv.notify_all();
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  if (impl_->engine.joinable()) impl_->engine.join();
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(impl_->conns_mu);
    for (auto& [id, c] : impl_->conns) open.push_back(c);
  }
  for (auto& c : open) c->close_socket();
  // Readers remove themselves from conns and park their thread in `finished`.
  for (;;) {
    {
      std::lock_guard lock(impl_->conns_mu);
      if (impl_->conns.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& t : impl_->finished) t.join();
  impl_->listener.close();
  impl_.reset();
}

ServerStats OpcUaServer::stats() const {
  ServerStats s;
  if (!impl_) return s;
  s.connections = impl_->connections.load();
  s.protocol_errors = impl_->protocol_errors.load();
  std::lock_guard lock(impl_->core_mu);
  const auto& c = impl_->core->counters();
  s.requests = c.requests;
  s.publish_responses = c.publish_responses;
  s.notifications = c.notifications;
  s.sessions = impl_->core->session_count();
  s.monitored_items = impl_->core->monitored_item_count();
  return s;
}

}  // namespace uc::simulator::opcua
