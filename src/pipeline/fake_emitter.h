// Test support: an Emitter that records what a source publishes and reports, for unit
// tests of sources and of the source runtime. Thread-safe; waits have real deadlines so
// a broken source fails the test instead of hanging it. Not linked into the product.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/source.h"

namespace uc::pipeline::testing {

class FakeEmitter final : public Emitter {
 public:
  explicit FakeEmitter(const Clock& clock = SystemClock::instance()) : clock_(clock) {}

  Status publish(SampleBatch&& batch, AckCallback on_durable) override {
    {
      std::lock_guard lock(mu_);
      batches_.push_back(std::move(batch));
      ++published_;
    }
    cv_.notify_all();
    if (on_durable) on_durable({});
    return refuse_ ? Status(StatusCode::kCancelled, "pipeline is stopping") : Status::ok();
  }
  void report_state(ComponentState s, std::string_view detail) override {
    {
      std::lock_guard lock(mu_);
      states_.emplace_back(s, std::string(detail));
    }
    cv_.notify_all();
  }
  Status dead_letter(Sample&& sample, std::string_view reason) override {
    std::lock_guard lock(mu_);
    dead_letters_.emplace_back(std::move(sample), std::string(reason));
    return Status::ok();
  }
  std::vector<std::pair<Sample, std::string>> dead_letters() {
    std::lock_guard lock(mu_);
    return dead_letters_;
  }
  void count_reconnection() override { ++reconnections_; }
  void count_error(std::string_view) override { ++errors_; }
  const Clock& clock() const override { return clock_; }

  // The next batch published, waiting up to `timeout` of real time.
  SampleBatch next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, timeout, [&] { return !batches_.empty(); })) << "no batch in time";
    if (batches_.empty()) return {};
    SampleBatch b = std::move(batches_.front());
    batches_.pop_front();
    return b;
  }
  // The next batch if one comes within `wait` of real time.
  std::optional<SampleBatch> try_next(std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, wait, [&] { return !batches_.empty(); })) return std::nullopt;
    SampleBatch b = std::move(batches_.front());
    batches_.pop_front();
    return b;
  }
  // The next batch while the injected `clock` is moved `step_us` at a time (the source
  // waits on it), up to `max_steps` steps; a test failure and an empty batch when none came.
  SampleBatch next_advancing(ManualClock& clock, std::int64_t step_us, int max_steps = 2000) {
    for (int i = 0; i < max_steps; ++i) {
      if (auto b = try_next(std::chrono::milliseconds(1))) return std::move(*b);
      clock.advance_us(step_us);
    }
    ADD_FAILURE() << "no batch within " << max_steps << " clock steps";
    return {};
  }
  // Waits until pred(states) holds; false after `timeout`.
  template <typename Pred>
  bool wait_states(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(states_); });
  }
  std::vector<std::pair<ComponentState, std::string>> states() {
    std::lock_guard lock(mu_);
    return states_;
  }
  std::size_t published() {
    std::lock_guard lock(mu_);
    return published_;
  }
  void refuse(bool r) { refuse_ = r; }

  std::atomic<int> reconnections_{0};
  std::atomic<int> errors_{0};

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SampleBatch> batches_;
  std::size_t published_ = 0;
  std::vector<std::pair<ComponentState, std::string>> states_;
  std::vector<std::pair<Sample, std::string>> dead_letters_;
  std::atomic<bool> refuse_{false};
};

}  // namespace uc::pipeline::testing
