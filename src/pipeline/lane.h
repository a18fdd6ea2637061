// A lane is one target's delivery path: the bounded queue, the batcher and the sink,
// driven by one worker thread. The worker is the only caller of the sink.
//
// Retry: a batch the sink answers with a retryable status is retried with exponential
// backoff and jitter until it is delivered or the lane's drain deadline passes at
// shutdown. A non-retryable status rejects the whole batch. Rejected records are
// counted in records_dropped{reason="rejected"} (the DLQ takes them once it exists).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "pipeline/queue.h"
#include "pipeline/sink.h"
#include "telemetry/log.h"

namespace uc::pipeline {

struct LaneOptions {
  std::string target;
  std::size_t capacity = 50'000;
  DropPolicy policy = DropPolicy::kBlock;
  BatchLimits batch;
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{30'000};
};

struct LaneCounters {
  std::atomic<std::uint64_t> enqueued{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped_oldest{0};
  std::atomic<std::uint64_t> dropped_newest{0};
  std::atomic<std::uint64_t> dropped_shutdown{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> batches_sent{0};
  std::atomic<std::uint64_t> batches_failed{0};
};

class Lane {
 public:
  Lane(LaneOptions options, std::unique_ptr<Sink> sink);
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  Status start();
  // Refuses new records, delivers what is queued until `deadline`, then resolves the
  // rest as dropped (reason "shutdown", counted and logged) and stops the sink.
  void stop(std::chrono::steady_clock::time_point deadline);

  // Refuses new records (releasing producers blocked on a full queue) while the worker
  // keeps delivering what is queued. stop() does this too.
  void refuse_new() { queue_.close(); }

  // Returns how many records were refused because the lane is stopping.
  std::size_t push(std::vector<Record>&& records, const AckRef& ack);

  const std::string& target() const { return options_.target; }
  const LaneOptions& options() const { return options_; }
  const LaneCounters& counters() const { return counters_; }
  std::size_t queue_size() const { return queue_.size(); }
  std::size_t queue_capacity() const { return queue_.capacity(); }
  ComponentState state() const { return state_.load(); }
  std::string last_error() const;
  const Sink& sink() const { return *sink_; }

 private:
  void run();
  void deliver(std::vector<Record>& batch, std::vector<AckSpan>& acks);
  std::size_t resolve_rejected(const std::vector<AckSpan>& acks, const std::vector<Rejection>& rejected,
                        std::size_t batch_size);
  bool wait_backoff(std::chrono::milliseconds d);  // false when the drain deadline passed
  void set_error(const std::string& e);
  void log_drop(const char* reason, std::size_t n);

  LaneOptions options_;
  std::unique_ptr<Sink> sink_;
  RecordQueue queue_;
  LaneCounters counters_;
  std::atomic<ComponentState> state_{ComponentState::kStopped};
  std::thread worker_;
  std::mt19937_64 rng_{std::random_device{}()};  // backoff jitter; worker thread only
  // Quiet when a target is down for long: one line per kind of trouble per 30 s.
  telemetry::RateLimitedLog log_limit_{SystemClock::instance(), 1, std::chrono::seconds(30)};

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::string last_error_;
};

}  // namespace uc::pipeline
