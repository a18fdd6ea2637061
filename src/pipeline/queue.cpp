#include "pipeline/queue.h"

#include <algorithm>
#include <iterator>

namespace uc::pipeline {

AckState::AckState(std::size_t total, AckCallback callback)
    : remaining_(total), callback_(std::move(callback)) {}

void AckState::resolve(std::size_t delivered, std::size_t dropped, std::size_t rejected) {
  std::size_t n = delivered + dropped + rejected;
  if (n == 0) return;
  delivered_.fetch_add(delivered, std::memory_order_relaxed);
  dropped_.fetch_add(dropped, std::memory_order_relaxed);
  rejected_.fetch_add(rejected, std::memory_order_relaxed);
  // acq_rel: the thread that resolves last sees every other thread's counts.
  if (remaining_.fetch_sub(n, std::memory_order_acq_rel) == n && callback_) {
    callback_(BatchOutcome{delivered_.load(), dropped_.load(), rejected_.load()});
  }
}

RecordQueue::RecordQueue(std::size_t capacity, DropPolicy policy, const Clock& clock)
    : capacity_(std::max<std::size_t>(capacity, 1)), policy_(policy), clock_(clock) {}

void RecordQueue::append_locked(std::vector<Record>&& records, std::size_t from, std::size_t count,
                                const AckRef& ack) {
  Chunk c;
  if (from == 0 && count == records.size()) {
    c.records = std::move(records);
  } else {
    c.records.reserve(count);
    std::move(records.begin() + static_cast<std::ptrdiff_t>(from),
              records.begin() + static_cast<std::ptrdiff_t>(from + count), std::back_inserter(c.records));
  }
  c.ack = ack;
  c.arrived_us = clock_.steady_us();
  chunks_.push_back(std::move(c));
  size_ += count;
}

std::size_t RecordQueue::evict_oldest_locked(std::size_t n, std::vector<AckSpan>& evicted) {
  std::size_t done = 0;
  while (done < n && !chunks_.empty()) {
    Chunk& c = chunks_.front();
    std::size_t take = std::min(n - done, c.remaining());
    c.head += take;
    done += take;
    size_ -= take;
    evicted.push_back({c.ack, take});
    if (c.remaining() == 0) chunks_.pop_front();
  }
  return done;
}

PushResult RecordQueue::push(std::vector<Record>&& records, const AckRef& ack) {
  PushResult result;
  const std::size_t total = records.size();
  if (total == 0) return result;
  std::vector<AckSpan> evicted;
  {
    std::unique_lock lock(mu_);
    std::size_t pos = 0;
    while (pos < total) {
      if (closed_) break;
      std::size_t room = capacity_ - size_;
      if (room == 0) {
        if (policy_ == DropPolicy::kBlock) {
          not_full_.wait(lock, [&] { return closed_ || size_ < capacity_; });
          continue;
        }
        if (policy_ == DropPolicy::kDropNewest) break;
        // kDropOldest: make room for as much of the rest as fits in the capacity.
        std::size_t want = std::min(total - pos, capacity_);
        result.dropped_oldest += evict_oldest_locked(want, evicted);
        room = capacity_ - size_;
      }
      std::size_t take = std::min(room, total - pos);
      append_locked(std::move(records), pos, take, ack);
      pos += take;
      result.accepted += take;
      not_empty_.notify_one();
    }
    std::size_t left = total - pos;
    if (left > 0) {
      if (closed_) {
        result.dropped_closed = left;
      } else {
        result.dropped_newest = left;
      }
    }
  }
  for (auto& span : evicted) span.ack->resolve(0, span.count, 0);
  std::size_t refused = result.dropped_closed + result.dropped_newest;
  if (refused > 0) ack->resolve(0, refused, 0);
  return result;
}

bool RecordQueue::pop_batch(const BatchLimits& limits, std::chrono::microseconds wait, std::vector<Record>& out,
                            std::vector<AckSpan>& acks) {
  std::unique_lock lock(mu_);
  const std::int64_t give_up = clock_.steady_us() + wait.count();
  while (!closed_ && size_ == 0 && clock_.steady_us() < give_up) clock_.wait_until(not_empty_, lock, give_up);
  if (size_ == 0) return false;  // nothing in time, or closed and empty
  const std::int64_t linger_end = chunks_.front().arrived_us + limits.linger.count();
  while (!closed_ && size_ < limits.max_records && clock_.steady_us() < linger_end) {
    clock_.wait_until(not_empty_, lock, linger_end);
  }
  std::size_t bytes = 0;
  std::size_t taken = 0;
  while (!chunks_.empty() && taken < limits.max_records) {
    Chunk& c = chunks_.front();
    std::size_t span = 0;
    while (c.head < c.records.size() && taken < limits.max_records) {
      std::size_t rb = c.records[c.head].approx_bytes();
      if (taken > 0 && bytes + rb > limits.max_bytes) break;
      bytes += rb;
      out.push_back(std::move(c.records[c.head]));
      ++c.head;
      ++span;
      ++taken;
    }
    if (span > 0) acks.push_back({c.ack, span});
    if (c.remaining() == 0) {
      chunks_.pop_front();
    } else {
      break;  // stopped by a limit
    }
  }
  size_ -= taken;
  lock.unlock();
  not_full_.notify_all();
  return taken > 0;
}

void RecordQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
}

bool RecordQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::size_t RecordQueue::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

std::vector<AckSpan> RecordQueue::drain_all() {
  std::vector<AckSpan> spans;
  {
    std::lock_guard lock(mu_);
    for (auto& c : chunks_) {
      if (c.remaining() > 0) spans.push_back({c.ack, c.remaining()});
    }
    chunks_.clear();
    size_ = 0;
  }
  not_full_.notify_all();
  return spans;
}

}  // namespace uc::pipeline
