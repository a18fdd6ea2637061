#include "pipeline/lane.h"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "core/record_codec.h"

namespace uc::pipeline {

Lane::Lane(LaneOptions options, std::unique_ptr<Sink> sink, const Clock& clock)
    : options_(std::move(options)),
      sink_(std::move(sink)),
      clock_(clock),
      queue_(options_.capacity, options_.policy, clock),
      breaker_(options_.breaker, clock) {}

Lane::~Lane() {
  if (worker_.joinable() || writer_.joinable()) stop(clock_.steady_us());
}

Status Lane::start() {
  if (options_.spool) {
    auto spool = buffer::Spool::open(*options_.spool, clock_);
    if (!spool.is_ok()) {
      set_error(spool.status().to_string());
      state_ = ComponentState::kFailed;
      return {spool.status().code(), "disk spool: " + spool.status().message()};
    }
    spool_ = std::move(spool).value();
    const auto& rep = spool_->recovery();
    if (rep.records > 0 || !rep.notes.empty()) {
      spdlog::info("target={} spool recovered: {} records to deliver ({} bytes in {} segments), {} possibly "
                   "delivered before (replayed, may duplicate), {} corrupt records skipped, {} torn bytes cut",
                   options_.target, rep.records, rep.bytes, rep.segments, rep.redelivered,
                   rep.corrupt_records_skipped, rep.torn_bytes_cut);
      for (const auto& note : rep.notes) spdlog::warn("target={} spool: {}", options_.target, note);
    }
    counters_.corrupt += rep.corrupt_records_skipped;
  }
  if (!options_.dlq_directory.empty()) {
    auto dlq = buffer::DeadLetterQueue::open(options_.dlq_directory, options_.target);
    if (!dlq.is_ok()) {
      set_error(dlq.status().to_string());
      state_ = ComponentState::kFailed;
      return {dlq.status().code(), "dead-letter queue: " + dlq.status().message()};
    }
    dlq_ = std::move(dlq).value();
  }
  Status s = sink_->start();
  if (!s.is_ok()) {
    set_error(s.to_string());
    state_ = ComponentState::kFailed;
    return s;
  }
  sink_started_ = true;
  state_ = ComponentState::kConnected;
  sink_on_spool_disk_ = spool_ && shares_spool_filesystem();
  if (spool_) {
    writer_ = std::thread([this] { run_spool_writer(); });
    worker_ = std::thread([this] { run_spool_delivery(); });
  } else {
    worker_ = std::thread([this] { run_memory(); });
  }
  return Status::ok();
}

void Lane::stop(std::int64_t deadline_us) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    deadline_us_ = deadline_us;
  }
  cv_.notify_all();
  queue_.close();
  if (writer_.joinable()) writer_.join();
  if (worker_.joinable()) worker_.join();
  // Whatever could not be delivered (memory only) or spooled (spool full) in time.
  std::size_t left = 0;
  for (auto& span : queue_.drain_all()) {
    span.ack->resolve(0, span.count, 0);
    left += span.count;
  }
  if (left > 0) {
    counters_.dropped_shutdown += left;
    spdlog::error("target={} dropped {} undelivered records at shutdown (last error: {})", options_.target, left,
                  last_error());
  }
  if (spool_) {
    Status f = spool_->flush();
    if (!f.is_ok()) spdlog::error("target={} spool flush at shutdown: {}", options_.target, f.to_string());
    if (spool_->unacked() > 0) {
      spdlog::info("target={} {} records stay in the spool for the next start", options_.target, spool_->unacked());
    }
  }
  if (sink_started_) sink_->stop();
  sink_started_ = false;
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
                 "target={} buffer full: dropped {} records by policy drop_{} (counted in uc_records_dropped_total)",
                 options_.target, n, reason);
}

std::string Lane::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void Lane::set_error(const std::string& e) {
  std::lock_guard lock(mu_);
  last_error_ = e;
}

bool Lane::past_deadline() const {
  std::lock_guard lock(mu_);
  return stopping_ && clock_.steady_us() >= deadline_us_;
}

bool Lane::wait_until_or_deadline(std::int64_t until_us) {
  std::unique_lock lock(mu_);
  for (;;) {
    const std::int64_t until = stopping_ ? std::min(until_us, deadline_us_) : until_us;
    if (clock_.steady_us() >= until) break;
    clock_.wait_until(cv_, lock, until);
  }
  return !(stopping_ && clock_.steady_us() >= deadline_us_);
}

void Lane::set_delivery_paused(bool paused) {
  {
    std::lock_guard lock(mu_);
    paused_ = paused;
  }
  cv_.notify_all();
}

bool Lane::delivery_paused() const {
  std::lock_guard lock(mu_);
  return paused_;
}

bool Lane::wait_while_paused() {
  std::unique_lock lock(mu_);
  while (paused_ && !stopping_) clock_.wait_until(cv_, lock, clock_.steady_us() + 1'000'000);
  return !paused_;
}

bool Lane::stop_requested() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

std::int64_t Lane::in_us(std::chrono::microseconds d) const { return clock_.steady_us() + d.count(); }

Lane::Delivery Lane::deliver(const std::vector<Record>& batch) {
  auto backoff = options_.retry_initial;
  for (;;) {
    if (!wait_while_paused()) return {};
    if (!breaker_.allow()) {
      circuit_state_ = breaker_.state();
      if (!wait_until_or_deadline(in_us(breaker_.wait_time()))) return {};
      continue;
    }
    circuit_state_ = breaker_.state();
    WriteResult r = sink_->write(batch);
    note_sink_result(r.status);
    if (r.status.is_ok()) {
      breaker_.on_success();
      circuit_state_ = breaker_.state();
      counters_.batches_sent++;
      state_ = ComponentState::kConnected;
      return {true, std::move(r.rejected)};
    }
    counters_.batches_failed++;
    set_error(r.status.to_string());
    if (!r.status.is_retryable()) {
      // The endpoint answered: a data problem, not an outage.
      breaker_.on_success();
      circuit_state_ = breaker_.state();
      Delivery d{true, {}};
      d.rejected.reserve(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) d.rejected.push_back({i, r.status.to_string()});
      return d;
    }
    breaker_.on_failure();
    circuit_state_ = breaker_.state();
    state_ = ComponentState::kDegraded;
    log_limit_.log(*spdlog::default_logger(), spdlog::level::warn, "retry",
                   "target={} write failed, retrying with backoff (now {} ms, circuit {}): {}", options_.target,
                   backoff.count(), circuit_state_name(breaker_.state()), r.status.to_string());
    if (breaker_.state() == CircuitBreaker::State::kOpen) continue;  // the breaker paces the trials now
    std::uniform_int_distribution<std::int64_t> jitter(backoff.count() / 2, backoff.count());
    if (!wait_until_or_deadline(in_us(std::chrono::milliseconds(jitter(rng_))))) {
      return {};
    }
    backoff = std::min(backoff * 2, options_.retry_max);
  }
}

// Does the sink write to the spool's filesystem? Compares the device of the spool
// directory with that of the sink's directory (or its nearest existing parent).
bool Lane::shares_spool_filesystem() const {
  std::string path = sink_->storage_path();
  if (path.empty() || !options_.spool) return false;
  struct stat spool_st {};
  if (::stat(options_.spool->directory.c_str(), &spool_st) != 0) return false;
  std::filesystem::path p = std::filesystem::absolute(path);
  struct stat sink_st {};
  while (::stat(p.c_str(), &sink_st) != 0) {
    if (!p.has_parent_path() || p.parent_path() == p) return false;
    p = p.parent_path();
  }
  return sink_st.st_dev == spool_st.st_dev;
}

void Lane::note_sink_result(const Status& status) {
  if (!sink_on_spool_disk_) return;
  const bool out_of_space = status.code() == StatusCode::kResourceExhausted;
  if (sink_out_of_space_.exchange(out_of_space) == out_of_space) return;
  if (out_of_space) {
    spdlog::warn("target={} the sink's disk is full and shared with the spool: the spool takes no more records "
                 "until the sink can write again, so freed space goes to delivery first",
                 options_.target);
  } else {
    spdlog::info("target={} the sink writes again; the spool takes records again", options_.target);
    cv_.notify_all();
  }
}

bool Lane::dead_letter_from_source(const Record& record, std::string reason) {
  return dead_letter({record}, {Rejection{0, std::move(reason)}}) == 0;
}

std::size_t Lane::dead_letter(const std::vector<Record>& batch, const std::vector<Rejection>& rejected) {
  if (rejected.empty()) return 0;
  std::vector<const Record*> records;
  std::vector<std::string> reasons;
  for (const auto& r : rejected) {
    if (r.index >= batch.size()) continue;
    records.push_back(&batch[r.index]);
    reasons.push_back(r.reason);
  }
  if (dlq_) {
    Status s = dlq_->add(records, reasons, clock_.now_us());
    if (s.is_ok()) {
      counters_.dead_lettered += records.size();
      log_limit_.log(*spdlog::default_logger(), spdlog::level::warn, "dlq",
                     "target={} sink rejected {} of {} records; they are in the DLQ {} (first reason: {})",
                     options_.target, records.size(), batch.size(), dlq_->path(), reasons.front());
      return 0;
    }
    spdlog::error("target={} cannot write {} rejected records to the DLQ: {}; counted as dropped", options_.target,
                  records.size(), s.to_string());
  } else {
    log_limit_.log(*spdlog::default_logger(), spdlog::level::err, "rejected",
                   "target={} sink rejected {} of {} records and there is no DLQ; counted as dropped (first: {})",
                   options_.target, records.size(), batch.size(), reasons.front());
  }
  counters_.rejected += records.size();
  return records.size();
}

void Lane::resolve_memory(const std::vector<AckSpan>& acks, const std::vector<Record>& batch, const Delivery& d) {
  std::vector<bool> is_rejected(batch.size(), false);
  for (const auto& r : d.rejected) {
    if (r.index < batch.size()) is_rejected[r.index] = true;
  }
  std::size_t pos = 0;
  std::size_t bad_total = 0;
  for (const auto& span : acks) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < span.count; ++i) bad += is_rejected[pos + i] ? 1 : 0;
    span.ack->resolve(span.count - bad, 0, bad);
    pos += span.count;
    bad_total += bad;
  }
  counters_.delivered += batch.size() - bad_total;
}

void Lane::run_memory() {
  std::vector<Record> batch;
  std::vector<AckSpan> acks;
  for (;;) {
    batch.clear();
    acks.clear();
    if (!queue_.pop_batch(options_.batch, std::chrono::milliseconds(200), batch, acks)) {
      if (queue_.closed() && queue_.size() == 0) return;
      continue;
    }
    Delivery d = deliver(batch);
    if (!d.done) {
      for (auto& span : acks) span.ack->resolve(0, span.count, 0);
      counters_.dropped_shutdown += batch.size();
      spdlog::error("target={} dropped a batch of {} records at shutdown: {}", options_.target, batch.size(),
                    last_error());
      return;
    }
    dead_letter(batch, d.rejected);
    resolve_memory(acks, batch, d);
    if (past_deadline()) return;
  }
}

void Lane::run_spool_writer() {
  BatchLimits limits = options_.batch;
  limits.linger = std::chrono::microseconds(0);  // the spool is the batcher's input, not its output
  std::vector<Record> batch;
  std::vector<AckSpan> acks;
  std::string encoded;
  std::vector<std::string_view> views;
  for (;;) {
    batch.clear();
    acks.clear();
    if (!queue_.pop_batch(limits, std::chrono::milliseconds(200), batch, acks)) {
      spool_->sync_if_due();
      if (queue_.closed() && queue_.size() == 0) break;
      continue;
    }
    // The batch waits in hand (unacknowledged) while the sink lacks space on the spool's disk.
    while (sink_out_of_space_.load() && !stop_requested()) {
      wait_until_or_deadline(in_us(std::chrono::milliseconds(100)));
      spool_->sync_if_due();
    }
    encode_proto_payloads(batch, encoded, views);
    auto resolve_all = [&](bool spooled) {
      for (auto& span : acks) span.ack->resolve(spooled ? span.count : 0, spooled ? 0 : span.count, 0);
    };
    for (;;) {
      auto r = spool_->append(views);
      if (r.is_ok()) {
        counters_.spooled += batch.size();
        resolve_all(true);
        cv_.notify_all();
        break;
      }
      const Status& s = r.status();
      if (s.code() == StatusCode::kInvalidArgument) {
        // A record the spool cannot hold (over max_record_bytes): dead-letter the batch.
        std::vector<Rejection> all;
        for (std::size_t i = 0; i < batch.size(); ++i) all.push_back({i, s.message()});
        dead_letter(batch, all);
        for (auto& span : acks) span.ack->resolve(0, 0, span.count);
        break;
      }
      if (s.code() == StatusCode::kResourceExhausted && options_.policy == DropPolicy::kDropNewest) {
        counters_.dropped_newest += batch.size();
        log_drop("newest", batch.size());
        resolve_all(false);
        break;
      }
      if (s.code() == StatusCode::kResourceExhausted && options_.policy == DropPolicy::kDropOldest) {
        std::uint64_t n = spool_->drop_oldest_segment();
        if (n > 0) {
          counters_.dropped_oldest += n;
          log_drop("oldest", static_cast<std::size_t>(n));
          continue;
        }
        // Nothing older to drop: the batch alone does not fit.
        counters_.dropped_newest += batch.size();
        log_drop("newest", batch.size());
        resolve_all(false);
        break;
      }
      // kBlock on a full spool, or an I/O error: wait and try again; the memory queue
      // fills meanwhile and publish() blocks (backpressure).
      set_error("disk spool: " + s.to_string());
      log_limit_.log(*spdlog::default_logger(), spdlog::level::warn, "spool",
                     "target={} cannot write to the spool ({}); holding records in memory", options_.target,
                     s.to_string());
      if (!wait_until_or_deadline(in_us(std::chrono::milliseconds(50)))) {
        counters_.dropped_shutdown += batch.size();
        spdlog::error("target={} dropped {} records at shutdown: the spool is full or failing ({})",
                      options_.target, batch.size(), s.to_string());
        resolve_all(false);
        break;
      }
    }
    spool_->sync_if_due();
  }
  writer_done_ = true;
  cv_.notify_all();
}

void Lane::run_spool_delivery() {
  RecordDecoder decoder;
  std::vector<buffer::SpoolRecord> raw;
  std::vector<Record> pending;
  std::vector<Record> spare;  // delivered records, decoded into again (at most one batch)
  std::uint64_t last_seq = 0;
  std::uint64_t acked = spool_->acked_seq();
  std::int64_t first_at_us = 0;
  const std::size_t max_records = std::max<std::size_t>(options_.batch.max_records, 1);
  for (;;) {
    if (pending.size() < max_records) {
      Status s = spool_->read(max_records - pending.size(), options_.batch.max_bytes, raw);
      if (!s.is_ok()) {
        set_error("disk spool: " + s.to_string());
        log_limit_.log(*spdlog::default_logger(), spdlog::level::err, "spool-read", "target={} spool read: {}",
                       options_.target, s.to_string());
        if (!wait_until_or_deadline(in_us(std::chrono::seconds(1)))) break;
        continue;
      }
      for (auto& r : raw) {
        Record rec;
        if (!spare.empty()) {
          rec = std::move(spare.back());
          spare.pop_back();
        }
        if (decoder.decode(r.payload, rec).is_ok()) {
          if (pending.empty()) first_at_us = clock_.steady_us();
          pending.push_back(std::move(rec));
        } else {
          spare.push_back(std::move(rec));
          counters_.corrupt++;
          log_limit_.log(*spdlog::default_logger(), spdlog::level::err, "corrupt",
                         "target={} spool record {} cannot be decoded; counted as dropped (reason corrupt)",
                         options_.target, r.seq);
        }
        last_seq = r.seq;
      }
    }
    if (pending.empty()) {
      if (last_seq > acked && spool_->ack(last_seq).is_ok()) acked = last_seq;  // only corrupt records read
      {
        std::unique_lock lock(mu_);
        if (stopping_ && ((writer_done_ && spool_->unread() == 0) || clock_.steady_us() >= deadline_us_)) {
          break;
        }
        clock_.wait_until(cv_, lock, in_us(std::chrono::milliseconds(100)));
      }
      continue;
    }
    const bool full = pending.size() >= max_records;
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    if (!full && !stopping && spool_->unread() == 0) {
      const std::int64_t linger_end = first_at_us + options_.batch.linger.count();
      if (clock_.steady_us() < linger_end) {
        std::unique_lock lock(mu_);
        clock_.wait_until(cv_, lock, linger_end);
        continue;
      }
    }
    Delivery d = deliver(pending);
    if (!d.done) break;  // the deadline passed: the records stay in the spool
    dead_letter(pending, d.rejected);
    counters_.delivered += pending.size() - d.rejected.size();
    Status a = spool_->ack(last_seq);
    if (a.is_ok()) {
      acked = last_seq;
    } else {
      spdlog::error("target={} spool ack: {} (records may be delivered again after a restart)", options_.target,
                    a.to_string());
    }
    // Delivered records are recycled: the next decode reuses their string buffers.
    for (Record& r : pending) spare.push_back(std::move(r));
    pending.clear();
    spool_->sync_if_due();
  }
}

Result<std::uint64_t> Lane::replay_dlq() {
  if (!dlq_) return Status(StatusCode::kFailedPrecondition, "target " + options_.target + " has no DLQ");
  return dlq_->replay([this](std::vector<Record>&& records) {
    const std::size_t n = records.size();
    auto ack = std::make_shared<AckState>(n, nullptr);
    if (push(std::move(records), ack) > 0) return Status(StatusCode::kUnavailable, "target is stopping");
    return Status::ok();
  });
}

std::uint64_t Lane::spool_bytes() const { return spool_ ? spool_->bytes() : 0; }
std::uint64_t Lane::spool_unacked() const { return spool_ ? spool_->unacked() : 0; }
std::uint64_t Lane::spool_corrupt() const { return spool_ ? spool_->corrupt_skipped() : 0; }

nlohmann::json Lane::spool_status() const {
  if (!spool_) return {{"enabled", false}};
  const auto& rep = spool_->recovery();
  return {{"enabled", true},
          {"directory", spool_->options().directory},
          {"bytes", spool_->bytes()},
          {"max_bytes", spool_->options().max_bytes},
          {"unacked_records", spool_->unacked()},
          {"unread_records", spool_->unread()},
          {"acked_seq", spool_->acked_seq()},
          {"next_seq", spool_->next_seq()},
          {"corrupt_records_skipped", spool_->corrupt_skipped()},
          {"fsync", buffer::fsync_policy_name(spool_->options().fsync)},
          {"recovery",
           {{"records", rep.records},
            {"redelivered", rep.redelivered},
            {"corrupt_records_skipped", rep.corrupt_records_skipped},
            {"torn_bytes_cut", rep.torn_bytes_cut},
            {"notes", rep.notes}}}};
}

}  // namespace uc::pipeline
