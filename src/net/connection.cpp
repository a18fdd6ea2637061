#include "net/connection.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/tls_session.h"
#include "net/waker.h"

namespace uc::net {
namespace {

Status cancelled(const std::string& what) { return {StatusCode::kCancelled, what + ": cancelled"}; }

// The Status of a wait that did not end with the socket ready.
Status wait_failure(WaitResult w, const std::string& what) {
  if (w == WaitResult::kWoken) return cancelled(what);
  if (w == WaitResult::kTimedOut) return unavailable(what + ": timed out");
  return unavailable(what + ": poll: " + std::strerror(errno));
}

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// One non-blocking connect to `a`, waiting for it to complete. Returns the socket.
Result<int> connect_one(const Address& a, const std::string& what, DeadlineUs deadline, const Waker* waker) {
  const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(what + ": socket: " + std::strerror(errno));
  int err = ::connect(fd, a.sockaddr_ptr(), a.length) == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    const WaitResult w = wait_for(fd, POLLOUT, deadline, waker);
    if (w != WaitResult::kReady) {
      Status st = wait_failure(w, what);
      ::close(fd);
      return st;
    }
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  }
  if (err != 0) {
    ::close(fd);
    return unavailable(what + ": " + std::strerror(err));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

ReadResult read_result(ReadResult::Kind kind, Status status) {
  ReadResult r;
  r.kind = kind;
  r.status = std::move(status);
  return r;
}

}  // namespace

Connection::Connection() = default;
Connection::Connection(int fd) : fd_(fd) {}
Connection::~Connection() { close(); }

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), tls_(std::move(other.tls_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    tls_ = std::move(other.tls_);
  }
  return *this;
}

Result<Connection> Connection::connect(const std::string& host, int port, DeadlineUs deadline, const TlsOptions& tls,
                                       const Waker* waker) {
  return connect(host, std::to_string(port), deadline, tls, waker);
}

Result<Connection> Connection::connect(const std::string& host, const std::string& port, DeadlineUs deadline,
                                       const TlsOptions& tls, const Waker* waker) {
  if (waker != nullptr && waker->woken()) return cancelled("connect to " + host + ":" + port);
  auto addresses = resolve(host, port);
  if (!addresses.is_ok()) return addresses.status();
  return connect(*addresses, host, deadline, tls, waker);
}

Result<Connection> Connection::connect(const std::vector<Address>& addresses, const std::string& host,
                                       DeadlineUs deadline, const TlsOptions& tls, const Waker* waker) {
  Status last = unavailable("no address for " + host);
  for (const Address& a : addresses) {
    const std::string what = "connect to " + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                             std::to_string(a.port());
    auto fd = connect_one(a, what, deadline, waker);
    if (!fd.is_ok()) {
      last = fd.status();
      if (last.code() == StatusCode::kCancelled) return last;
      continue;
    }
    Connection c(*fd);
    if (tls.enabled) {
      if (Status st = c.start_tls(tls, host, deadline, waker); !st.is_ok()) return st;
    }
    return c;
  }
  return last;
}

Connection Connection::adopt(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return Connection(fd);
}

Status Connection::start_tls(const TlsOptions& tls, const std::string& host, DeadlineUs deadline,
                             const Waker* waker) {
  if (fd_ < 0 || tls_ != nullptr) return {StatusCode::kFailedPrecondition, "TLS: needs an open plain connection"};
  auto session = TlsSession::create(tls, host, fd_);
  if (!session.is_ok()) return session.status();
  tls_ = std::move(*session);
  const std::string what = "TLS handshake with " + host;
  for (;;) {
    const TlsSession::Io io = tls_->handshake();
    if (io == TlsSession::Io::kDone) return Status::ok();
    if (io == TlsSession::Io::kClosed || io == TlsSession::Io::kError) return unavailable(what + ": " + tls_->error());
    const WaitResult w = wait_for(fd_, io == TlsSession::Io::kWantRead ? POLLIN : POLLOUT, deadline, waker);
    if (w != WaitResult::kReady) return wait_failure(w, what);
  }
}

Status Connection::send_once(const std::uint8_t* data, std::size_t size, std::size_t& sent, short& want) {
  want = 0;
  if (tls_ != nullptr) {
    const TlsSession::Io io = tls_->write(data, size, sent);
    if (io == TlsSession::Io::kWantRead) want = POLLIN;
    if (io == TlsSession::Io::kWantWrite) want = POLLOUT;
    if (io == TlsSession::Io::kClosed || io == TlsSession::Io::kError) return unavailable(tls_->error());
    return Status::ok();
  }
  const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
  if (n >= 0) {
    sent = static_cast<std::size_t>(n);
  } else if (would_block(errno)) {
    want = POLLOUT;
  } else {
    return unavailable(std::string("send: ") + std::strerror(errno));
  }
  return Status::ok();
}

Status Connection::send_all(std::span<const std::uint8_t> bytes, DeadlineUs deadline, const Waker* waker) {
  if (fd_ < 0) return unavailable("send: not connected");
  std::size_t off = 0;
  while (off < bytes.size()) {
    if (waker != nullptr && waker->woken()) return cancelled("send");
    std::size_t sent = 0;
    short want = 0;
    if (Status st = send_once(bytes.data() + off, bytes.size() - off, sent, want); !st.is_ok()) return st;
    off += sent;
    if (want == 0) continue;
    const WaitResult w = wait_for(fd_, want, deadline, waker);
    if (w != WaitResult::kReady) return wait_failure(w, "send");
  }
  return Status::ok();
}

Status Connection::send_all(std::string_view bytes, DeadlineUs deadline, const Waker* waker) {
  return send_all(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), deadline, waker);
}

// One non-blocking read; want is set when it must wait (kTimedOut is returned then).
ReadResult Connection::read_once(std::uint8_t* data, std::size_t size, short& want) {
  want = 0;
  ReadResult r;
  if (tls_ != nullptr) {
    const TlsSession::Io io = tls_->read(data, size, r.size);
    if (io == TlsSession::Io::kDone) r.kind = ReadResult::Kind::kData;
    if (io == TlsSession::Io::kWantRead) want = POLLIN;
    if (io == TlsSession::Io::kWantWrite) want = POLLOUT;
    if (io == TlsSession::Io::kClosed) return read_result(ReadResult::Kind::kClosed, unavailable(tls_->error()));
    if (io == TlsSession::Io::kError) return read_result(ReadResult::Kind::kError, unavailable(tls_->error()));
    if (want != 0) r.kind = ReadResult::Kind::kTimedOut;
    return r;
  }
  const ssize_t n = ::recv(fd_, data, size, 0);
  if (n > 0) {
    r.kind = ReadResult::Kind::kData;
    r.size = static_cast<std::size_t>(n);
    return r;
  }
  if (n == 0) return read_result(ReadResult::Kind::kClosed, unavailable("closed by the peer"));
  if (!would_block(errno)) return read_result(ReadResult::Kind::kError, unavailable(std::string("recv: ") + std::strerror(errno)));
  want = POLLIN;
  r.kind = ReadResult::Kind::kTimedOut;
  return r;
}

ReadResult Connection::read_some(std::span<std::uint8_t> buffer, DeadlineUs deadline, const Waker* waker) {
  if (fd_ < 0) return read_result(ReadResult::Kind::kError, unavailable("recv: not connected"));
  if (buffer.empty()) return read_result(ReadResult::Kind::kError, invalid_argument("read_some: empty buffer"));
  for (;;) {
    if (waker != nullptr && waker->woken()) return read_result(ReadResult::Kind::kCancelled, cancelled("recv"));
    short want = 0;
    ReadResult r = read_once(buffer.data(), buffer.size(), want);
    if (want == 0) return r;
    const WaitResult w = wait_for(fd_, want, deadline, waker);
    if (w == WaitResult::kReady) continue;
    if (w == WaitResult::kWoken) return read_result(ReadResult::Kind::kCancelled, cancelled("recv"));
    if (w == WaitResult::kTimedOut) return read_result(ReadResult::Kind::kTimedOut, unavailable("recv: timed out"));
    return read_result(ReadResult::Kind::kError, wait_failure(w, "recv"));
  }
}

ReadResult Connection::read_some(std::span<char> buffer, DeadlineUs deadline, const Waker* waker) {
  return read_some(std::span(reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()), deadline, waker);
}

WaitResult Connection::wait_readable(DeadlineUs deadline, const Waker* waker) const {
  if (waker != nullptr && waker->woken()) return WaitResult::kWoken;
  if (pending()) return WaitResult::kReady;
  return wait_for(fd_, POLLIN, deadline, waker);
}

bool Connection::pending() const { return tls_ != nullptr && tls_->pending(); }

void Connection::close() {
  if (tls_ != nullptr) tls_->shutdown();
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace uc::net
