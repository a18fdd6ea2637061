#include "pipeline/circuit_breaker.h"

#include <algorithm>

namespace uc::pipeline {

const char* circuit_state_name(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed: return "closed";
    case CircuitBreaker::State::kHalfOpen: return "half_open";
    case CircuitBreaker::State::kOpen: return "open";
  }
  return "closed";
}

bool CircuitBreaker::allow() {
  if (state_ == State::kOpen && wait_time().count() == 0) state_ = State::kHalfOpen;
  return state_ != State::kOpen;
}

std::chrono::milliseconds CircuitBreaker::wait_time() const {
  if (state_ != State::kOpen) return std::chrono::milliseconds(0);
  const std::int64_t until = opened_at_us_ + options_.open_duration.count() * 1000;
  const std::int64_t left_us = until - clock_.steady_us();
  return std::chrono::milliseconds(std::max<std::int64_t>(0, (left_us + 999) / 1000));
}

void CircuitBreaker::on_success() {
  consecutive_failures_ = 0;
  state_ = State::kClosed;
}

void CircuitBreaker::on_failure() {
  ++consecutive_failures_;
  if (state_ == State::kHalfOpen || consecutive_failures_ >= options_.failure_threshold) open();
}

void CircuitBreaker::open() {
  if (state_ != State::kOpen) ++times_opened_;
  state_ = State::kOpen;
  opened_at_us_ = clock_.steady_us();
}

}  // namespace uc::pipeline
