// Deadlines and the one blocking wait every net call is built on.
//
// - A deadline is an absolute time in steady-clock microseconds: the epoch of
//   std::chrono::steady_clock, which is what uc::SystemClock::steady_us() returns, so a
//   caller computes it from its injected Clock (clock.steady_us() + timeout). The wait
//   itself measures against the real steady clock: sockets live in real time.
//   kNoDeadline waits without limit; a deadline already past means "do not wait"
//   (a call still makes its one non-blocking attempt).
// - wait_for() blocks the calling thread in poll() on one fd and, when given, a Waker;
//   it returns as soon as the fd is ready (or has an error/hang-up, which the next I/O
//   call reports), the waker is woken (checked first), or the deadline passes.
//   EINTR is retried. It owns nothing. With fd -1 only the waker and the deadline end
//   the wait: a pause that another thread can cut short.
#pragma once

#include <cstdint>
#include <limits>

namespace uc::net {

class Waker;

using DeadlineUs = std::int64_t;
inline constexpr DeadlineUs kNoDeadline = std::numeric_limits<DeadlineUs>::max();

// Now on the steady clock, in microseconds (the deadlines' epoch).
std::int64_t steady_now_us();
// steady_now_us() + ms, or kNoDeadline for ms < 0.
DeadlineUs deadline_in_ms(std::int64_t ms);

enum class WaitResult {
  kReady,     // the fd has one of the events (or POLLERR/POLLHUP)
  kWoken,     // the waker is woken
  kTimedOut,  // the deadline passed
  kFailed,    // poll() itself failed; errno says why
};

WaitResult wait_for(int fd, short events, DeadlineUs deadline, const Waker* waker);

}  // namespace uc::net
