#include "sources/mqtt/ack_inbox.h"

#include <utility>

namespace uc::sources::mqtt {

void AckInbox::push(const AckToken& token) {
  std::lock_guard lock(mu_);
  if (interrupted_ || closed_) return;
  tokens_.push_back(token);
  if (waiting_) waker_.wake();
}

void AckInbox::interrupt() {
  std::lock_guard lock(mu_);
  interrupted_ = true;
  waker_.wake();
}

void AckInbox::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  tokens_.clear();
}

// The waker is reset under the lock that push() rings it under, so a token queued
// after this wait ends cannot leave it woken for the sends that follow.
net::WaitResult AckInbox::wait_readable(const net::Connection& connection, net::DeadlineUs deadline) {
  {
    std::lock_guard lock(mu_);
    if (interrupted_ || !tokens_.empty()) return net::WaitResult::kWoken;
    waiting_ = true;
  }
  const net::WaitResult result = connection.wait_readable(deadline, &waker_);
  std::lock_guard lock(mu_);
  waiting_ = false;
  if (!interrupted_) waker_.reset();
  return result;
}

std::vector<AckInbox::AckToken> AckInbox::take() {
  std::lock_guard lock(mu_);
  return std::exchange(tokens_, {});
}

}  // namespace uc::sources::mqtt
