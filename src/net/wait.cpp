#include "net/wait.h"

#include <poll.h>

#include <cerrno>
#include <chrono>

#include "net/waker.h"

namespace uc::net {
namespace {

// Milliseconds for poll(), rounded up so a wait never ends just before its deadline.
int poll_timeout_ms(DeadlineUs deadline) {
  if (deadline == kNoDeadline) return -1;
  const std::int64_t left_us = deadline - steady_now_us();
  if (left_us <= 0) return 0;
  const std::int64_t ms = (left_us + 999) / 1000;
  return ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max() : static_cast<int>(ms);
}

}  // namespace

std::int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

DeadlineUs deadline_in_ms(std::int64_t ms) { return ms < 0 ? kNoDeadline : steady_now_us() + ms * 1000; }

WaitResult wait_for(int fd, short events, DeadlineUs deadline, const Waker* waker) {
  for (;;) {
    if (waker != nullptr && waker->woken()) return WaitResult::kWoken;
    pollfd fds[2] = {{fd, events, 0}, {waker != nullptr ? waker->fd() : -1, POLLIN, 0}};
    const int timeout = poll_timeout_ms(deadline);
    const int n = ::poll(fds, 2, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return WaitResult::kFailed;
    }
    if (waker != nullptr && waker->woken()) return WaitResult::kWoken;
    if (fds[0].revents != 0) return WaitResult::kReady;
    if (waker != nullptr && (fds[1].revents & POLLIN) != 0) waker->drain();  // spurious: woken() is false
    if (timeout == 0) return WaitResult::kTimedOut;
    if (n == 0 && deadline != kNoDeadline && steady_now_us() >= deadline) return WaitResult::kTimedOut;
  }
}

}  // namespace uc::net
