// A wake-up signal one thread raises to cancel another thread's blocking network wait.
//
// - wake() may be called from any thread, any number of times; it never blocks. The
//   waker stays signalled ("woken") until reset(): every net wait given this waker
//   returns a cancelled result at once, including waits that begin after wake().
// - reset() clears the signal. Call it on the thread that waits (never while another
//   thread waits on the same waker), e.g. to reuse a connection after a soft cancel.
// - fd() is an eventfd for the caller's own poll(): it is readable once wake() was
//   called. woken() is the truth; a readable fd with woken() false (a wake racing a
//   reset) is spurious and the net waits drain it.
// - The waker owns its eventfd and must outlive every wait that was given it.
// - If the eventfd cannot be created (fd table full), status() says so; wake() still
//   sets the flag, so waits notice it at their next check (no later than their deadline).
#pragma once

#include <atomic>

#include "core/status.h"

namespace uc::net {

class Waker {
 public:
  Waker();
  ~Waker();
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;

  void wake() const noexcept;
  void reset() noexcept;
  bool woken() const noexcept { return woken_.load(); }

  int fd() const { return fd_; }
  Status status() const;

  // Empties the eventfd; the net waits call it when the fd was readable but woken()
  // is false, so a spurious doorbell cannot make them spin.
  void drain() const noexcept;

 private:
  int fd_ = -1;
  int create_errno_ = 0;
  mutable std::atomic<bool> woken_{false};
};

}  // namespace uc::net
