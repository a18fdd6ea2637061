// A circuit breaker per target: stops hammering a dead endpoint (SPEC §5).
//
//   closed ──(failure_threshold consecutive failures)──► open
//   open ──(open_duration passed)──► half-open: one trial request is allowed
//   half-open ──success──► closed;  half-open ──failure──► open (again for open_duration)
//
// Pure state machine with injected time; the lane's worker is its only user.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/clock.h"

namespace uc::pipeline {

struct CircuitBreakerOptions {
  std::uint32_t failure_threshold = 5;
  std::chrono::milliseconds open_duration{30'000};
};

class CircuitBreaker {
 public:
  enum class State { kClosed = 0, kHalfOpen = 1, kOpen = 2 };  // numeric values are the metric's

  CircuitBreaker(CircuitBreakerOptions options, const Clock& clock) : options_(options), clock_(clock) {}

  // May a request go out now? Moves open → half-open when the open period is over.
  bool allow();
  // How long until allow() can say yes (0 when it already would).
  std::chrono::milliseconds wait_time() const;
  void on_success();
  void on_failure();

  State state() const { return state_; }
  std::uint64_t times_opened() const { return times_opened_; }

 private:
  void open();

  CircuitBreakerOptions options_;
  const Clock& clock_;
  State state_ = State::kClosed;
  std::uint32_t consecutive_failures_ = 0;
  std::int64_t opened_at_us_ = 0;
  std::uint64_t times_opened_ = 0;
};

const char* circuit_state_name(CircuitBreaker::State s);

}  // namespace uc::pipeline
