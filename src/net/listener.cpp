#include "net/listener.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "net/address.h"
#include "net/waker.h"

namespace uc::net {
namespace {

int bound_port(int fd) {
  Address a;
  a.length = sizeof a.storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.length) != 0) return 0;
  return a.port();
}

// Socket, SO_REUSEADDR, bind, listen; errno is left set on failure.
int open_listening(const Address& a, int backlog) {
  const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, a.sockaddr_ptr(), a.length) == 0 && ::listen(fd, backlog) == 0) return fd;
  const int err = errno;
  ::close(fd);
  errno = err;
  return -1;
}

}  // namespace

Listener::~Listener() { close(); }

Listener::Listener(Listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(std::exchange(other.port_, 0)) {}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    port_ = std::exchange(other.port_, 0);
  }
  return *this;
}

Result<Listener> Listener::listen(const std::string& host, int port, int backlog) {
  auto addresses = resolve_numeric(host, port);
  if (!addresses.is_ok()) return addresses.status();
  const int fd = open_listening(addresses->front(), backlog);
  if (fd < 0) {
    return unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  return Listener(fd, bound_port(fd));
}

Result<Connection> Listener::accept(DeadlineUs deadline, const Waker* waker) {
  if (fd_ < 0) return unavailable("accept: not listening");
  for (;;) {
    if (waker != nullptr && waker->woken()) return Status(StatusCode::kCancelled, "accept: cancelled");
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return Connection::adopt(fd);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
      return unavailable(std::string("accept: ") + std::strerror(errno));
    }
    const WaitResult w = wait_for(fd_, POLLIN, deadline, waker);
    if (w == WaitResult::kWoken) return Status(StatusCode::kCancelled, "accept: cancelled");
    if (w == WaitResult::kTimedOut) return unavailable("accept: timed out");
    if (w == WaitResult::kFailed) return unavailable(std::string("accept: poll: ") + std::strerror(errno));
  }
}

void Listener::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  port_ = 0;
}

}  // namespace uc::net
