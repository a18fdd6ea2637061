// net::Listener: a listening TCP socket for the simulators and test servers.
//
// - listen() binds and listens on the calling thread, so a busy port or a bad address
//   is reported at once: kInvalidArgument for a host that is not a numeric IPv4/IPv6
//   address (empty: every local address), kUnavailable when bind or listen fails.
//   Port 0 picks a free port; port() reports the one bound. SO_REUSEADDR is set.
// - accept() blocks the calling thread until a connection arrives, the deadline passes
//   (kUnavailable "accept: timed out"; a past deadline takes only what is already
//   queued), or the waker is woken (kCancelled). The accepted socket comes back as a
//   plain-TCP net::Connection (non-blocking, TCP_NODELAY), owned by the caller.
// - One thread accepts at a time. fd() is for the caller's own poll()/select().
// - The Listener owns its socket (movable, closes on destruction).
#pragma once

#include <string>

#include "core/status.h"
#include "net/connection.h"
#include "net/wait.h"

namespace uc::net {

class Waker;

class Listener {
 public:
  Listener() = default;
  ~Listener();
  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  static Result<Listener> listen(const std::string& host, int port, int backlog = 128);

  Result<Connection> accept(DeadlineUs deadline, const Waker* waker = nullptr);

  int port() const { return port_; }
  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

 private:
  Listener(int fd, int port) : fd_(fd), port_(port) {}

  int fd_ = -1;
  int port_ = 0;
};

}  // namespace uc::net
