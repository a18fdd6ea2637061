// AckInbox: durability notices handed from pipeline threads to the MQTT connection
// thread, and the one net::Waker that thread's network calls are given.
//
// - push() (any thread; a batch's on_durable) queues an AckToken. It rings the waker only
//   while the connection thread is inside wait_readable(), so a send or a connect given
//   waker() is never cut short by an ack, only by interrupt().
// - interrupt() (any thread; the source's stop hook) wakes the waker for good: every
//   later call given waker() returns kCancelled, and later tokens are dropped (at
//   shutdown the broker redelivers what was not acknowledged).
// - wait_readable() and take() are for the connection thread only. wait_readable()
//   blocks until the connection is readable, the deadline passes, a token is queued
//   (returns kWoken at once when one already is) or interrupt(); it leaves the waker
//   un-woken unless interrupted.
// - close() (the connection thread, when its run ends): later tokens are dropped.
// - Shared ownership (std::shared_ptr): callbacks may resolve after the run has ended.
//   If the waker's eventfd could not be made, status() says so.
#pragma once

#include <mutex>
#include <vector>

#include "core/status.h"
#include "net/connection.h"
#include "net/waker.h"
#include "protocols/mqtt/session.h"

namespace uc::sources::mqtt {

class AckInbox {
 public:
  using AckToken = protocols::mqtt::AckToken;

  void push(const AckToken& token);
  void interrupt();
  void close();

  net::WaitResult wait_readable(const net::Connection& connection, net::DeadlineUs deadline);
  std::vector<AckToken> take();

  const net::Waker* waker() const { return &waker_; }
  Status status() const { return waker_.status(); }

 private:
  std::mutex mu_;
  std::vector<AckToken> tokens_;  // guarded by mu_, as are the flags
  bool waiting_ = false;
  bool interrupted_ = false;
  bool closed_ = false;
  net::Waker waker_;
};

}  // namespace uc::sources::mqtt
