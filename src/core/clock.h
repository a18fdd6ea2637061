// Time is injected: components take a Clock so tests can drive time by hand.
// All timestamps are microseconds since the Unix epoch (the record's wire form).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace uc {

using TimestampUs = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (record timestamps).
  virtual TimestampUs now_us() const = 0;
  // Monotonic time for intervals and timeouts.
  virtual std::int64_t steady_us() const = 0;
  // Blocks on `cv` (its mutex held by `lock`) until notified or until steady_us() reaches
  // deadline_us. It may return early, so callers wait in a loop that re-checks their
  // condition and the time. This is how every loop, retry and watchdog waits: a test's
  // ManualClock moves time and the waiter sees it without anyone sleeping for real.
  virtual void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          std::int64_t deadline_us) const = 0;
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
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  std::int64_t deadline_us) const override {
    // As a duration, capped: a far deadline (INT64_MAX: "until woken") would overflow the
    // conversion to the clock's nanoseconds and return at once, a busy loop.
    constexpr std::int64_t kMaxWaitUs = 3'600'000'000;
    const std::int64_t left = deadline_us - steady_us();
    if (left <= 0) return;
    cv.wait_for(lock, std::chrono::microseconds(std::min(left, kMaxWaitUs)));
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Thread-safe. A wait returns after at most
// kPollMs of real time (or a notify), so a waiter notices time moved by advance_us()
// promptly; nothing in a test sleeps until a deadline.
class ManualClock final : public Clock {
 public:
  static constexpr int kPollMs = 1;
  explicit ManualClock(TimestampUs start_us = 1'700'000'000'000'000) : now_(start_us) {}
  TimestampUs now_us() const override { return now_.load(); }
  std::int64_t steady_us() const override { return now_.load(); }
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  std::int64_t deadline_us) const override {
    if (now_.load() < deadline_us) cv.wait_for(lock, std::chrono::milliseconds(kPollMs));
  }
  void advance_us(std::int64_t delta) { now_.fetch_add(delta); }
  void set_us(TimestampUs t) { now_.store(t); }

 private:
  std::atomic<TimestampUs> now_;
};

}  // namespace uc
