#include "pipeline/lane.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace uc::pipeline {

Lane::Lane(LaneOptions options, std::unique_ptr<Sink> sink)
    : options_(std::move(options)), sink_(std::move(sink)), queue_(options_.capacity, options_.policy) {}

Lane::~Lane() {
  if (worker_.joinable()) stop(std::chrono::steady_clock::now());
}

Status Lane::start() {
  Status s = sink_->start();
  if (!s.is_ok()) {
    set_error(s.to_string());
    state_ = ComponentState::kFailed;
    return s;
  }
  state_ = ComponentState::kConnected;
  worker_ = std::thread([this] { run(); });
  return Status::ok();
}

void Lane::stop(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    deadline_ = deadline;
  }
  stop_cv_.notify_all();
  queue_.close();
  if (worker_.joinable()) worker_.join();
  // Whatever the worker could not deliver before the deadline.
  std::size_t left = 0;
  for (auto& span : queue_.drain_all()) {
    span.ack->resolve(0, span.count, 0);
    left += span.count;
  }
  if (left > 0) {
    counters_.dropped_shutdown += left;
    spdlog::error("target={} dropped {} undelivered records at shutdown (sink unavailable: {})", options_.target,
                  left, last_error());
  }
  sink_->stop();
  state_ = ComponentState::kStopped;
}

std::size_t Lane::push(std::vector<Record>&& records, const AckRef& ack) {
  PushResult r = queue_.push(std::move(records), ack);
  counters_.enqueued += r.accepted;
  if (r.dropped_oldest > 0) {
    counters_.dropped_oldest += r.dropped_oldest;
    log_drop("oldest", r.dropped_oldest);
  }
  if (r.dropped_newest > 0) {
    counters_.dropped_newest += r.dropped_newest;
    log_drop("newest", r.dropped_newest);
  }
  if (r.dropped_closed > 0) counters_.dropped_shutdown += r.dropped_closed;
  return r.dropped_closed;
}

void Lane::log_drop(const char* reason, std::size_t n) {
  log_limit_.log(*spdlog::default_logger(), spdlog::level::warn, reason,
                 "target={} queue full ({} records): dropped {} records by policy drop_{} (counted in "
                 "uc_records_dropped_total)",
                 options_.target, queue_.capacity(), n, reason);
}

std::string Lane::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void Lane::set_error(const std::string& e) {
  std::lock_guard lock(mu_);
  last_error_ = e;
}

void Lane::run() {
  std::vector<Record> batch;
  std::vector<AckSpan> acks;
  batch.reserve(options_.batch.max_records);
  for (;;) {
    batch.clear();
    acks.clear();
    if (!queue_.pop_batch(options_.batch, std::chrono::milliseconds(200), batch, acks)) {
      if (queue_.closed() && queue_.size() == 0) return;
      continue;
    }
    deliver(batch, acks);
    {
      std::lock_guard lock(mu_);
      if (stopping_ && std::chrono::steady_clock::now() >= deadline_) return;
    }
  }
}

bool Lane::wait_backoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  auto until = std::chrono::steady_clock::now() + d;
  if (stopping_) until = std::min(until, deadline_);
  stop_cv_.wait_until(lock, until, [&] { return stopping_ && std::chrono::steady_clock::now() >= deadline_; });
  return !(stopping_ && std::chrono::steady_clock::now() >= deadline_);
}

void Lane::deliver(std::vector<Record>& batch, std::vector<AckSpan>& acks) {
  auto backoff = options_.retry_initial;
  for (;;) {
    WriteResult r = sink_->write(batch);
    if (r.status.is_ok()) {
      counters_.batches_sent++;
      std::size_t rejected = 0;
      if (r.rejected.empty()) {
        for (auto& span : acks) span.ack->resolve(span.count, 0, 0);
      } else {
        rejected = resolve_rejected(acks, r.rejected, batch.size());
      }
      counters_.delivered += batch.size() - rejected;
      state_ = ComponentState::kConnected;
      return;
    }
    counters_.batches_failed++;
    set_error(r.status.to_string());
    if (!r.status.is_retryable()) {
      std::vector<Rejection> all;
      all.reserve(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) all.push_back({i, r.status.to_string()});
      resolve_rejected(acks, all, batch.size());
      return;
    }
    state_ = ComponentState::kDegraded;
    log_limit_.log(*spdlog::default_logger(), spdlog::level::warn, "retry",
                   "target={} write failed, retrying with backoff (now {} ms): {}", options_.target, backoff.count(),
                   r.status.to_string());
    // Full jitter in [backoff/2, backoff].
    std::uniform_int_distribution<std::int64_t> jitter(backoff.count() / 2, backoff.count());
    if (!wait_backoff(std::chrono::milliseconds(jitter(rng_)))) {
      for (auto& span : acks) span.ack->resolve(0, span.count, 0);
      counters_.dropped_shutdown += batch.size();
      spdlog::error("target={} dropped a batch of {} records at shutdown: {}", options_.target, batch.size(),
                    r.status.to_string());
      return;
    }
    backoff = std::min(backoff * 2, options_.retry_max);
  }
}

std::size_t Lane::resolve_rejected(const std::vector<AckSpan>& acks, const std::vector<Rejection>& rejected,
                            std::size_t batch_size) {
  std::vector<bool> is_rejected(batch_size, false);
  for (const auto& r : rejected) {
    if (r.index < batch_size) is_rejected[r.index] = true;
  }
  std::size_t pos = 0;
  std::size_t n_rejected = 0;
  for (const auto& span : acks) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < span.count; ++i) bad += is_rejected[pos + i] ? 1 : 0;
    span.ack->resolve(span.count - bad, 0, bad);
    pos += span.count;
    n_rejected += bad;
  }
  counters_.rejected += n_rejected;
  if (!rejected.empty()) {
    log_limit_.log(*spdlog::default_logger(), spdlog::level::err, "rejected",
                   "target={} sink rejected {} of {} records (first: {})", options_.target, n_rejected, batch_size,
                   rejected.front().reason);
  }
  return n_rejected;
}

}  // namespace uc::pipeline
