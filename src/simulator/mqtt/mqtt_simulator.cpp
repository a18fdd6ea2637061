#include "simulator/mqtt/mqtt_simulator.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace uc::simulator::mqtt {
namespace wire = protocols::mqtt;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Conn {
 public:
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  Status open(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
      return unavailable(std::string("resolve ") + host + ": " + ::gai_strerror(rc));
    }
    Status last = unavailable("no address");
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
        ::freeaddrinfo(res);
        return Status::ok();
      }
      last = unavailable("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
      ::close(fd);
    }
    ::freeaddrinfo(res);
    return last;
  }
  Status send(const wire::Bytes& b) {
    std::size_t off = 0;
    while (off < b.size()) {
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
};

}  // namespace

MqttSimulator::MqttSimulator(SimulatorOptions options)
    : o_(std::move(options)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

MqttSimulator::~MqttSimulator() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status MqttSimulator::start() {
  if (wake_fd_ < 0) return internal_error("eventfd failed");
  if (thread_.joinable()) return {StatusCode::kFailedPrecondition, "already started"};
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void MqttSimulator::stop() {
  stop_.store(true);
  const std::uint64_t one = 1;
  if (wake_fd_ >= 0) [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void MqttSimulator::run() {
  Plant plant(o_.plant);
  int delay_ms = 100;
  while (!stop_.load()) {
    const Status st = session(plant);
    if (stop_.load()) break;
    spdlog::warn("simulator: MQTT {}:{}: {}; reconnecting in {} ms", o_.host, o_.port, st.message(), delay_ms);
    pollfd p{wake_fd_, POLLIN, 0};
    ::poll(&p, 1, delay_ms);
    delay_ms = std::min(delay_ms * 2, 5000);
  }
}

Status MqttSimulator::session(Plant& plant) {
  Conn c;
  if (Status st = c.open(o_.host, o_.port); !st.is_ok()) return st;
  wire::ConnectOptions co;
  co.client_id = o_.client_id;
  co.keep_alive_s = 30;
  if (o_.plant.sparkplug) co.will = plant.will_for_connect();
  if (Status st = c.send(wire::encode_connect(co)); !st.is_ok()) return st;
  wire::Decoder dec(wire::Version::k311);
  std::uint16_t next_id = 0;
  auto id = [&] {
    if (++next_id == 0) next_id = 1;
    return next_id;
  };
  auto publish = [&](const std::vector<Message>& msgs) -> Status {
    wire::Bytes batch;
    for (const auto& m : msgs) {
      const auto b = wire::encode_publish(wire::Version::k311, m.topic, m.payload.data(), m.payload.size(), m.qos,
                                          m.retain, m.qos > 0 ? id() : 0);
      batch.insert(batch.end(), b.begin(), b.end());
    }
    published_.fetch_add(msgs.size());
    return c.send(batch);
  };
  bool up = false;
  auto last_send = std::chrono::steady_clock::now();
  auto next_tick = std::chrono::steady_clock::now();
  std::uint8_t buf[16384];
  while (!stop_.load()) {
    auto now = std::chrono::steady_clock::now();
    int timeout = 1000;
    if (up) {
      if (now >= next_tick) {
        if (Status st = publish(plant.tick(now_ms())); !st.is_ok()) return st;
        last_send = now;
        next_tick = now + std::chrono::milliseconds(o_.interval_ms);
      }
      if (now - last_send > std::chrono::seconds(15)) {
        if (Status st = c.send(wire::encode_pingreq()); !st.is_ok()) return st;
        last_send = now;
      }
      timeout = static_cast<int>(std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - std::chrono::steady_clock::now()).count()));
    }
    pollfd fds[2] = {{c.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, timeout);
    if (n < 0 && errno != EINTR) return internal_error(std::string("poll: ") + std::strerror(errno));
    if (n <= 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    const ssize_t r = ::recv(c.fd(), buf, sizeof buf, 0);
    if (r == 0) return unavailable("broker closed the connection");
    if (r < 0) {
      if (errno == EINTR) continue;
      return unavailable(std::string("recv: ") + std::strerror(errno));
    }
    dec.feed(buf, static_cast<std::size_t>(r));
    while (true) {
      auto p = dec.next();
      if (!p.is_ok()) return p.status();
      if (!p->has_value()) break;
      const wire::Packet& pk = **p;
      if (pk.type == wire::PacketType::kConnack) {
        if (pk.reason != 0) return unavailable("CONNACK " + wire::connack_reason_text(wire::Version::k311, pk.reason));
        connects_.fetch_add(1);
        std::vector<std::pair<std::string, int>> subs;
        for (const auto& s : plant.subscriptions()) subs.emplace_back(s, 1);
        if (!subs.empty()) {
          if (Status st = c.send(wire::encode_subscribe(wire::Version::k311, id(), subs)); !st.is_ok()) return st;
        }
        if (Status st = publish(plant.births(now_ms())); !st.is_ok()) return st;
        up = true;
        next_tick = std::chrono::steady_clock::now();
      } else if (pk.type == wire::PacketType::kPublish) {
        if (pk.qos == 1) (void)c.send(wire::encode_ack(wire::PacketType::kPuback, pk.packet_id));
        if (pk.qos == 2) (void)c.send(wire::encode_ack(wire::PacketType::kPubrec, pk.packet_id));
        if (Status st = publish(plant.on_message(pk.topic, pk.payload, now_ms())); !st.is_ok()) return st;
      } else if (pk.type == wire::PacketType::kPubrel) {
        (void)c.send(wire::encode_ack(wire::PacketType::kPubcomp, pk.packet_id));
      }
    }
  }
  // Intentional disconnect: NDEATH first (the will is discarded by DISCONNECT).
  if (up && o_.plant.sparkplug) (void)publish({plant.death()});
  (void)c.send(wire::encode_disconnect());
  return Status::ok();
}

}  // namespace uc::simulator::mqtt
