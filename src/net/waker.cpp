#include "net/waker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace uc::net {

Waker::Waker() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) create_errno_ = errno;
}

Waker::~Waker() {
  if (fd_ >= 0) ::close(fd_);
}

// The flag first, then the doorbell: a waiter that checked the flag before poll() is
// woken by the write, one that checks after sees the flag.
void Waker::wake() const noexcept {
  woken_.store(true);
  if (fd_ < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

void Waker::reset() noexcept {
  woken_.store(false);
  drain();
}

void Waker::drain() const noexcept {
  if (fd_ < 0) return;
  std::uint64_t value = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd_, &value, sizeof value);
}

Status Waker::status() const {
  if (fd_ >= 0) return Status::ok();
  return internal_error(std::string("eventfd: ") + std::strerror(create_errno_));
}

}  // namespace uc::net
