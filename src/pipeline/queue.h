// The bounded in-memory record queue of one target, and the batch acknowledgement
// bookkeeping that carries "durable" back to the source.
//
// Capacity is counted in records. When full, the DropPolicy decides: block the
// producer (backpressure), drop the oldest queued records, or drop the incoming ones.
// Every dropped record is resolved on its AckState and counted by the caller.
// Thread-safe: any number of producers, one consumer (the target's worker).
// Time (the linger of a batch, the wait for a first record) is the injected Clock's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "buffer/policies.h"
#include "core/clock.h"
#include "core/record.h"
#include "pipeline/source.h"

namespace uc::pipeline {

// Counts the resolution of one published batch across every target it went to and
// fires the source's callback once, when the last record is resolved.
class AckState {
 public:
  AckState(std::size_t total, AckCallback callback);
  void resolve(std::size_t delivered, std::size_t dropped, std::size_t rejected);

 private:
  std::atomic<std::size_t> remaining_;
  std::atomic<std::size_t> delivered_{0};
  std::atomic<std::size_t> dropped_{0};
  std::atomic<std::size_t> rejected_{0};
  AckCallback callback_;
};
using AckRef = std::shared_ptr<AckState>;

// The queue's when-full policy; owned by buffer/ (policies.h), which config/ parses into.
using buffer::DropPolicy;

// A run of consecutive records in a popped batch that share one AckState.
struct AckSpan {
  AckRef ack;
  std::size_t count;
};

struct BatchLimits {
  std::size_t max_records = 1000;
  std::size_t max_bytes = 4 * 1024 * 1024;
  std::chrono::microseconds linger{100'000};
};

struct PushResult {
  std::size_t accepted = 0;
  std::size_t dropped_oldest = 0;  // queued records evicted to make room
  std::size_t dropped_newest = 0;  // incoming records refused (policy newest)
  std::size_t dropped_closed = 0;  // incoming records refused because the queue is closed
};

class RecordQueue {
 public:
  RecordQueue(std::size_t capacity, DropPolicy policy, const Clock& clock = SystemClock::instance());

  // Takes ownership of the records. Under kBlock waits for room (splitting a batch
  // larger than the capacity) until the queue is closed.
  PushResult push(std::vector<Record>&& records, const AckRef& ack);

  // Waits up to `wait` for a first record, then gathers more until max_records or
  // max_bytes is reached or `linger` has passed since the oldest queued record
  // arrived. A closed queue is drained without lingering. Returns false when
  // nothing was taken (timeout, or closed and empty).
  bool pop_batch(const BatchLimits& limits, std::chrono::microseconds wait, std::vector<Record>& out,
                 std::vector<AckSpan>& acks);

  // Wakes every waiter; later pushes are refused, pops drain what is left.
  void close();
  bool closed() const;

  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

  // Removes everything still queued, returning the spans so the caller can resolve them.
  std::vector<AckSpan> drain_all();

 private:
  struct Chunk {
    std::vector<Record> records;
    std::size_t head = 0;
    AckRef ack;
    std::int64_t arrived_us = 0;  // steady time
    std::size_t remaining() const { return records.size() - head; }
  };

  std::size_t evict_oldest_locked(std::size_t n, std::vector<AckSpan>& evicted);
  void append_locked(std::vector<Record>&& records, std::size_t from, std::size_t count, const AckRef& ack);

  const std::size_t capacity_;
  const DropPolicy policy_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Chunk> chunks_;
  std::size_t size_ = 0;
  bool closed_ = false;
};

}  // namespace uc::pipeline
