// A lane is one target's delivery path: the bounded memory queue, optionally the disk
// spool behind it, the batcher, the sink, the circuit breaker and the dead-letter queue.
//
// Without a spool (memory only): one worker pops batches from the queue and delivers
// them; a batch's records are resolved (and the source acknowledged) when the sink
// answers.
// With a spool: a writer thread moves records from the queue into the spool and
// resolves them as durable there (the source's on_durable fires once they are in the
// spool, per its fsync policy); a delivery thread reads the spool in order, delivers,
// and acknowledges the spool. Records left at shutdown stay in the spool and are
// delivered after the next start; nothing is dropped at shutdown.
//
// Delivery: a retryable failure is retried with exponential backoff and jitter; the
// circuit breaker opens after `failure_threshold` consecutive failures and then lets
// one trial batch through every `open_duration`. A non-retryable failure rejects the
// whole batch. Rejected records go to the target's DLQ with the reason; when the DLQ
// itself cannot be written they are counted as dropped (reason "rejected") and logged.
// The lane's threads are the only callers of the sink and the spool's read side; the DLQ
// (thread-safe) is also written by sources' threads through dead_letter_from_source.
// Once the breaker is open, retries are paced by it alone (one trial per open period), so
// delivery resumes within one open period of the endpoint coming back.
//
// A full disk shared by the spool and a local sink (Sink::storage_path() on the spool's
// filesystem): while the sink fails with RESOURCE_EXHAUSTED, the spool writer takes no
// more records, so space that is freed goes to the sink, not to a spool that would only
// grow until it is full again. The memory queue fills meanwhile and applies the policy
// (block: producers wait). A delivered batch lifts the pause; a stop lifts it so that
// what is queued is still spooled.
// Paused delivery (set_delivery_paused, POST /api/zerobus/stop): the delivery thread
// stops calling the sink before its next attempt (a write in progress finishes); the
// writer keeps moving records into the spool, or, memory only, the queue fills and the
// policy applies. Resuming continues where it stopped. A stop while paused delivers
// nothing more: with a spool the records stay there for the next start; memory only they
// are dropped at the deadline (reason "shutdown", counted). Not saved: a restart delivers.
// Every wait (retry back-off, breaker, linger, shutdown deadline) is on the injected Clock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "buffer/dlq.h"
#include "buffer/spool.h"
#include "pipeline/circuit_breaker.h"
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
  CircuitBreakerOptions breaker;
  std::optional<buffer::SpoolOptions> spool;  // unset: memory only
  std::string dlq_directory;                  // empty: no DLQ (rejections are counted as dropped)
};

struct LaneCounters {
  std::atomic<std::uint64_t> enqueued{0};
  std::atomic<std::uint64_t> spooled{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> dropped_oldest{0};
  std::atomic<std::uint64_t> dropped_newest{0};
  std::atomic<std::uint64_t> dropped_shutdown{0};
  std::atomic<std::uint64_t> rejected{0};  // rejected and NOT in the DLQ (no DLQ, or it failed)
  std::atomic<std::uint64_t> corrupt{0};   // spool records that could not be decoded
  std::atomic<std::uint64_t> batches_sent{0};
  std::atomic<std::uint64_t> batches_failed{0};
};

class Lane {
 public:
  Lane(LaneOptions options, std::unique_ptr<Sink> sink, const Clock& clock = SystemClock::instance());
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  // Opens the spool (recovering what a previous run left) and the DLQ, starts the sink
  // and the threads. A spool that cannot be opened safely is an error.
  Status start();
  // Refuses new records; delivers until `deadline_us` (steady time of the lane's clock). Memory only: what is still
  // undelivered then is dropped (reason "shutdown", counted, logged). With a spool:
  // everything queued is first written to the spool, and what is undelivered stays there.
  void stop(std::int64_t deadline_us);

  // Refuses new records (releasing producers blocked on a full queue) while the lane
  // keeps working on what it holds. stop() does this too.
  void refuse_new() { queue_.close(); }

  // Pauses or resumes delivery to the sink (see above). Any thread.
  void set_delivery_paused(bool paused);
  bool delivery_paused() const;

  // Returns how many records were refused because the lane is stopping.
  std::size_t push(std::vector<Record>&& records, const AckRef& ack);

  // A record its source could not use (Emitter::dead_letter) put straight into the DLQ
  // with the reason, counted as dead-lettered — or, without a DLQ or when it cannot be
  // written, as rejected (dropped) and logged. Any thread. True when it is in the DLQ.
  bool dead_letter_from_source(const Record& record, std::string reason);

  // Replays the DLQ into this lane (through the queue, so into the spool when there is
  // one). Returns the number of records replayed.
  Result<std::uint64_t> replay_dlq();

  const std::string& target() const { return options_.target; }
  const LaneOptions& options() const { return options_; }
  const LaneCounters& counters() const { return counters_; }
  std::size_t queue_size() const { return queue_.size(); }
  std::size_t queue_capacity() const { return queue_.capacity(); }
  ComponentState state() const { return state_.load(); }
  CircuitBreaker::State circuit_state() const { return circuit_state_.load(); }
  std::string last_error() const;
  const Sink& sink() const { return *sink_; }
  buffer::DeadLetterQueue* dlq() const { return dlq_.get(); }
  // Spool figures (0 when there is no spool).
  std::uint64_t spool_bytes() const;
  std::uint64_t spool_unacked() const;
  std::uint64_t spool_corrupt() const;
  nlohmann::json spool_status() const;

 private:
  struct Delivery {
    bool done = false;                // false: gave up at the shutdown deadline
    std::vector<Rejection> rejected;  // indices into the batch
  };

  void run_memory();
  void run_spool_writer();
  void run_spool_delivery();
  Delivery deliver(const std::vector<Record>& batch);
  // Puts rejected records into the DLQ; returns how many could not be (counted dropped).
  std::size_t dead_letter(const std::vector<Record>& batch, const std::vector<Rejection>& rejected);
  void resolve_memory(const std::vector<AckSpan>& acks, const std::vector<Record>& batch, const Delivery& d);
  bool wait_until_or_deadline(std::int64_t until_us);  // false when the deadline passed
  bool wait_while_paused();  // false when a stop came while paused
  std::int64_t in_us(std::chrono::microseconds d) const;  // steady time `d` from now
  bool past_deadline() const;
  bool stop_requested() const;
  bool shares_spool_filesystem() const;  // the sink's storage_path() is on the spool's filesystem
  void note_sink_result(const Status& status);
  void set_error(const std::string& e);
  void log_drop(const char* reason, std::size_t n);

  LaneOptions options_;
  std::unique_ptr<Sink> sink_;
  const Clock& clock_;
  RecordQueue queue_;
  LaneCounters counters_;
  CircuitBreaker breaker_;
  std::atomic<CircuitBreaker::State> circuit_state_{CircuitBreaker::State::kClosed};
  std::atomic<ComponentState> state_{ComponentState::kStopped};
  std::unique_ptr<buffer::Spool> spool_;
  std::unique_ptr<buffer::DeadLetterQueue> dlq_;
  std::thread worker_;
  std::thread writer_;
  std::atomic<bool> writer_done_{false};
  bool sink_on_spool_disk_ = false;             // set by start()
  std::atomic<bool> sink_out_of_space_{false};  // delivery thread sets, spool writer reads
  bool sink_started_ = false;  // control thread only
  std::mt19937_64 rng_{std::random_device{}()};  // backoff jitter; delivery thread only
  // Quiet when a target is down for long: one line per kind of trouble per 30 s.
  telemetry::RateLimitedLog log_limit_{clock_, 1, std::chrono::seconds(30)};

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;  // stop requests and "the spool has new records"
  bool stopping_ = false;
  bool paused_ = false;
  std::int64_t deadline_us_ = INT64_MAX;  // steady
  std::string last_error_;
};

}  // namespace uc::pipeline
