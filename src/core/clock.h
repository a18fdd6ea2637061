// Time is injected: components take a Clock so tests can drive time by hand.
// All timestamps are microseconds since the Unix epoch (the record's wire form).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace uc {

using TimestampUs = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (record timestamps).
  virtual TimestampUs now_us() const = 0;
  // Monotonic time for intervals and timeouts.
  virtual std::int64_t steady_us() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimestampUs now_us() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t steady_us() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampUs start_us = 1'700'000'000'000'000) : now_(start_us) {}
  TimestampUs now_us() const override { return now_.load(); }
  std::int64_t steady_us() const override { return now_.load(); }
  void advance_us(std::int64_t delta) { now_.fetch_add(delta); }
  void set_us(TimestampUs t) { now_.store(t); }

 private:
  std::atomic<TimestampUs> now_;
};

}  // namespace uc
