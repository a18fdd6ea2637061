#include "pipeline/pipeline.h"

#include "pipeline/metrics.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <thread>

#include "core/time_text.h"
#include "pipeline/source_loop.h"

namespace uc::pipeline {

namespace {

// The UTC text of µs since the epoch; null for 0 (never).
nlohmann::json utc_json(std::int64_t us) {
  if (us <= 0) return nullptr;
  return utc_text(us);
}

}  // namespace

const char* component_state_name(ComponentState s) {
  switch (s) {
    case ComponentState::kStopped: return "stopped";
    case ComponentState::kConnecting: return "connecting";
    case ComponentState::kConnected: return "connected";
    case ComponentState::kDegraded: return "degraded";
    case ComponentState::kFailed: return "failed";
  }
  return "failed";
}

// Batches a source published whose acknowledgement has not come yet. Shared with the
// acknowledgement callbacks, which may run after the source is gone.
class InFlight : public std::enable_shared_from_this<InFlight> {
 public:
  explicit InFlight(const Clock& clock) : clock_(clock) {}
  AckCallback track(AckCallback inner) {
    {
      std::lock_guard lock(mu_);
      ++batches_;
    }
    return [self = shared_from_this(), inner = std::move(inner)](const BatchOutcome& outcome) {
      if (inner) inner(outcome);
      std::lock_guard lock(self->mu_);
      if (--self->batches_ == 0) self->cv_.notify_all();
    };
  }
  bool wait_idle(std::int64_t deadline_us) {
    std::unique_lock lock(mu_);
    while (batches_ > 0 && clock_.steady_us() < deadline_us) clock_.wait_until(cv_, lock, deadline_us);
    return batches_ == 0;
  }

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t batches_ = 0;
};

// One configured source in the pipeline: the Emitter it talks to (normalizes on the
// source's thread and pushes the records into every lane the source is routed to) and
// the runtime loop that runs it. Its counters live as long as the pipeline, across
// stops, restarts and replacements of the Source object.
class SourceRunner final : public Emitter {
 public:
  SourceRunner(std::unique_ptr<Source> source, std::unique_ptr<normalize::Normalizer> normalizer,
               std::vector<Lane*> lanes, std::string protocol, const Clock& clock, SourceRuntimeOptions runtime,
               LatestValues& latest)
      : latest_(latest),
        source_(std::move(source)),
        lanes_(std::move(lanes)),
        protocol_(std::move(protocol)),
        clock_(clock),
        loop_(*source_, *this, std::move(runtime)) {
    set_normalizer(std::move(normalizer));
  }
  ~SourceRunner() override { loop_.stop(); }

  Status start() {
    report_state(ComponentState::kConnecting, "");
    return loop_.start();
  }
  void request_stop() { loop_.request_stop(); }
  void stop() {
    loop_.stop();
    report_state(ComponentState::kStopped, "");
  }
  bool running() const { return loop_.running(); }
  // Only while stopped: the next start() runs `source`.
  Status replace(std::unique_ptr<Source> source, std::unique_ptr<normalize::Normalizer> normalizer,
                 SourceRuntimeOptions runtime) {
    if (loop_.running()) return {StatusCode::kFailedPrecondition, "source " + source_->name() + " is running"};
    Status s = loop_.set_source(*source, std::move(runtime));
    if (!s.is_ok()) return s;
    source_ = std::move(source);
    set_normalizer(std::move(normalizer));
    latest_.reset();
    return Status::ok();
  }

  Status publish(SampleBatch&& batch, AckCallback on_durable) override {
    if (batch.empty()) return Status::ok();
    counters_->received += batch.size();
    counters_->batches++;
    std::vector<Record> records;
    records.reserve(batch.size());
    normalizer_->normalize_batch(std::move(batch), clock_.now_us(), records);
    counters_->normalized += records.size();
    latest_.update(records);
    if (collision_log_.count() != counters_->path_collisions.load(std::memory_order_relaxed)) {
      counters_->path_collisions.store(collision_log_.count(), std::memory_order_relaxed);
      std::string summary = collision_log_.summary();
      if (!summary.empty()) spdlog::warn("source={} {}", source_->name(), summary);
    }
    const std::size_t n = records.size();
    if (n > 0) on_durable = in_flight_->track(std::move(on_durable));
    auto ack = std::make_shared<AckState>(n * lanes_.size(), std::move(on_durable));
    std::size_t refused = 0;
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
      if (i + 1 == lanes_.size()) {
        refused += lanes_[i]->push(std::move(records), ack);
      } else {
        std::vector<Record> copy = records;
        refused += lanes_[i]->push(std::move(copy), ack);
      }
    }
    if (refused > 0) return {StatusCode::kCancelled, "pipeline is stopping"};
    return Status::ok();
  }

  Status dead_letter(Sample&& sample, std::string_view reason) override {
    SampleBatch one;
    one.push_back(std::move(sample));
    std::vector<Record> records;
    normalizer_->normalize_batch(std::move(one), clock_.now_us(), records);
    if (records.empty()) return internal_error("the normalizer made no record of a dead letter");
    std::size_t kept = 0;
    for (Lane* lane : lanes_) kept += lane->dead_letter_from_source(records.front(), std::string(reason)) ? 1 : 0;
    if (kept == lanes_.size()) return Status::ok();
    return unavailable(std::to_string(lanes_.size() - kept) + " of " + std::to_string(lanes_.size()) +
                       " targets could not keep it in a DLQ");
  }

  // Entering degraded or failed is logged (rate-limited per state and cause: a source that
  // flaps logs a few lines and then a count of the suppressed ones, not one line per flap);
  // entering connected clears the last error (it is shown while it is relevant only).
  void report_state(ComponentState state, std::string_view detail) override {
    std::lock_guard lock(mu_);
    if (state != state_ && (state == ComponentState::kFailed || state == ComponentState::kDegraded)) {
      state_log_.log(*state_logger(), spdlog::level::warn, std::string(component_state_name(state)) + '\n' +
                     std::string(detail), "source={} {}: {}", source_->name(), component_state_name(state), detail);
    } else if (state != state_ && state == ComponentState::kConnected && state_ != ComponentState::kConnecting) {
      state_log_.log(*state_logger(), spdlog::level::info, "connected", "source={} connected", source_->name());
    }
    if (state == ComponentState::kConnected && state_ != ComponentState::kConnected) last_error_.clear();
    state_ = state;
    if (!detail.empty()) note_error_locked(detail);
  }

  void count_reconnection() override { counters_->reconnections++; }
  void count_error(std::string_view what) override {
    counters_->errors++;
    std::lock_guard lock(mu_);
    note_error_locked(what);
  }
  const Clock& clock() const override { return clock_; }

  Source& source() { return *source_; }
  const Source& source() const { return *source_; }
  const std::string& protocol() const { return protocol_; }
  const SourceCounters& counters() const { return *counters_; }
  std::shared_ptr<const SourceCounters> shared_counters() const { return counters_; }
  const normalize::Normalizer& normalizer() const { return *normalizer_; }
  ComponentState state() const {
    std::lock_guard lock(mu_);
    return state_;
  }
  // The last error while it is relevant: while the source is not connected, and for
  // kErrorShownUs after an error counted while connected (a bad message); empty once the
  // source is healthy again. last_error_at_us() stays: when the last error happened.
  std::string last_error() const {
    std::lock_guard lock(mu_);
    if (state_ == ComponentState::kConnected && clock_.steady_us() - last_error_steady_us_ >= kErrorShownUs) return {};
    return last_error_;
  }
  // System time (µs since the epoch) of the last error; 0 when there was none.
  std::int64_t last_error_at_us() const {
    std::lock_guard lock(mu_);
    return last_error_at_us_;
  }
  const std::vector<Lane*>& lanes() const { return lanes_; }
  // Until every batch published so far is settled, or deadline_us on the steady clock.
  bool wait_settled(std::int64_t deadline_us) const { return in_flight_->wait_idle(deadline_us); }

 private:
  void set_normalizer(std::unique_ptr<normalize::Normalizer> normalizer) {
    normalizer_ = std::move(normalizer);
    // Collisions are logged a few in full, then as one summary line per batch that found
    // more (a tree whose names repeat per line collides once per tag).
    normalizer_->set_collision_handler([this](const normalize::Collision& c) {
      std::string line = collision_log_.add(c);
      if (!line.empty()) spdlog::warn("source={} {}", source_->name(), line);
    });
  }

  LatestValues::Writer latest_;  // the source thread's only
  std::unique_ptr<Source> source_;
  std::unique_ptr<normalize::Normalizer> normalizer_;
  std::vector<Lane*> lanes_;
  std::string protocol_;
  const Clock& clock_;
  SourceLoop loop_;
  std::shared_ptr<SourceCounters> counters_ = std::make_shared<SourceCounters>();
  std::shared_ptr<InFlight> in_flight_ = std::make_shared<InFlight>(clock_);
  normalize::CollisionLog collision_log_;  // the source thread's only
  void note_error_locked(std::string_view what) {
    last_error_ = std::string(what);
    last_error_at_us_ = clock_.now_us();
    last_error_steady_us_ = clock_.steady_us();
  }
  static std::shared_ptr<spdlog::logger> state_logger() { return telemetry::get_logger("source"); }

  static constexpr std::int64_t kErrorShownUs = 60'000'000;
  mutable std::mutex mu_;
  ComponentState state_ = ComponentState::kStopped;
  std::string last_error_;
  std::int64_t last_error_at_us_ = 0;
  std::int64_t last_error_steady_us_ = 0;
  telemetry::RateLimitedLog state_log_{clock_, 3, std::chrono::seconds(60)};
};

Pipeline::Pipeline(const Clock& clock, std::size_t latest_values_capacity)
    : clock_(clock), latest_values_(latest_values_capacity) {}

Pipeline::~Pipeline() {
  if (started_ && !stopped_) stop(std::chrono::milliseconds(0));
}

Status Pipeline::add_lane(LaneOptions options, std::unique_ptr<Sink> sink) {
  for (const auto& l : lanes_) {
    if (l->target() == options.target && l->sink().name() == sink->name()) {
      return {StatusCode::kAlreadyExists, "target " + options.target + " already has sink " + sink->name()};
    }
  }
  lanes_.push_back(std::make_unique<Lane>(std::move(options), std::move(sink), clock_));
  return Status::ok();
}

Status Pipeline::add_source(std::unique_ptr<Source> source, std::unique_ptr<normalize::Normalizer> normalizer,
                            const std::vector<std::string>& targets, std::string protocol,
                            SourceRuntimeOptions runtime) {
  std::vector<Lane*> lanes;
  for (const auto& t : targets) {
    bool found = false;
    for (auto& l : lanes_) {
      if (l->target() == t) {
        lanes.push_back(l.get());
        found = true;
      }
    }
    if (!found) return not_found("source " + source->name() + " routes to unknown target " + t);
  }
  if (lanes.empty()) return invalid_argument("source " + source->name() + " has no target");
  if (find(source->name()) != nullptr) return {StatusCode::kAlreadyExists, "source " + source->name() + " exists"};
  auto runner = std::make_unique<SourceRunner>(std::move(source), std::move(normalizer), std::move(lanes),
                                               std::move(protocol), clock_, std::move(runtime), latest_values_);
  if (started_ && !stopped_) {
    Status s = runner->start();
    if (!s.is_ok()) return s;
  }
  std::lock_guard lock(sources_mu_);
  sources_.push_back(std::move(runner));
  return Status::ok();
}

Status Pipeline::start() {
  for (auto& l : lanes_) {
    Status s = l->start();
    if (!s.is_ok()) return {s.code(), "target " + l->target() + " (" + l->sink().name() + "): " + s.message()};
  }
  started_ = true;
  for (auto& r : sources_) {
    Status s = r->start();
    if (!s.is_ok()) r->report_state(ComponentState::kFailed, s.to_string());
  }
  return Status::ok();
}

SourceRunner* Pipeline::find(const std::string& name) const {
  std::lock_guard lock(sources_mu_);
  for (const auto& r : sources_) {
    if (r->source().name() == name) return r.get();
  }
  return nullptr;
}

Status Pipeline::start_source(const std::string& name) {
  SourceRunner* r = find(name);
  if (r == nullptr) return not_found("no source named \"" + name + "\"");
  if (!started_ || stopped_) return {StatusCode::kFailedPrecondition, "the pipeline is not running"};
  if (r->running()) return Status::ok();
  return r->start();
}

Status Pipeline::stop_source(const std::string& name) {
  SourceRunner* r = find(name);
  if (r == nullptr) return not_found("no source named \"" + name + "\"");
  r->stop();
  return Status::ok();
}

Status Pipeline::replace_source(std::unique_ptr<Source> source, std::unique_ptr<normalize::Normalizer> normalizer,
                                SourceRuntimeOptions runtime) {
  SourceRunner* r = find(source->name());
  if (r == nullptr) return not_found("no source named \"" + source->name() + "\"");
  const bool was_running = r->running();
  r->stop();
  latest_values_.drop_source(r->source().name());  // its paths may change with it
  Status s = r->replace(std::move(source), std::move(normalizer), std::move(runtime));
  if (!s.is_ok()) return s;
  return was_running ? r->start() : Status::ok();
}

Status Pipeline::remove_source(const std::string& name, std::chrono::milliseconds drain_timeout) {
  std::unique_ptr<SourceRunner> runner;
  {
    std::lock_guard lock(sources_mu_);
    for (auto it = sources_.begin(); it != sources_.end(); ++it) {
      if ((*it)->source().name() != name) continue;
      runner = std::move(*it);
      sources_.erase(it);
      break;
    }
  }
  if (!runner) return not_found("no source named \"" + name + "\"");
  runner->stop();
  latest_values_.drop_source(name);
  const std::int64_t deadline = clock_.steady_us() + std::chrono::microseconds(drain_timeout).count();
  if (drain_timeout.count() > 0 && !runner->wait_settled(deadline)) {
    return {StatusCode::kDeadlineExceeded, "source " + name + " removed; some of its records were not yet durable after " +
                                               std::to_string(drain_timeout.count()) + " ms (they stay queued)"};
  }
  return Status::ok();
}

void Pipeline::stop(std::chrono::milliseconds drain_timeout) {
  if (stopped_) return;
  stopped_ = true;
  const std::int64_t deadline = clock_.steady_us() + std::chrono::microseconds(drain_timeout).count();
  // Sources are stopped on a helper thread: one blocked in publish (backpressure from a
  // dead sink) only returns when its lane makes room or refuses, so the lanes keep
  // delivering meanwhile, and are closed at the deadline to release such a source.
  std::mutex mu;
  std::condition_variable cv;
  bool sources_done = false;
  std::thread stopper([&] {
    for (auto& r : sources_) r->request_stop();  // all at once, then wait for each
    for (auto& r : sources_) r->stop();
    std::lock_guard lock(mu);
    sources_done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    while (!sources_done && clock_.steady_us() < deadline) clock_.wait_until(cv, lock, deadline);
    if (!sources_done) {
      spdlog::warn("sources still blocked on full queues at the drain deadline; refusing new records");
      lock.unlock();
      for (auto& l : lanes_) l->refuse_new();
    }
  }
  stopper.join();
  for (auto& l : lanes_) l->stop(deadline);
}

std::vector<std::string> Pipeline::unready_reasons() const {
  std::vector<std::string> reasons;
  for (const auto& l : lanes_) {
    if (l->state() == ComponentState::kFailed) {
      reasons.push_back("target " + l->target() + ": sink failed: " + l->last_error());
    } else if (l->circuit_state() == CircuitBreaker::State::kOpen) {
      reasons.push_back("target " + l->target() + ": circuit breaker open: " + l->last_error());
    }
  }
  std::string down;
  bool any_running = false, any_up = false;
  for (const SourceView& v : sources()) {
    if (v.state == ComponentState::kStopped) continue;
    any_running = true;
    any_up = any_up || v.state == ComponentState::kConnected || v.state == ComponentState::kDegraded;
    down += (down.empty() ? "" : "; ") + v.name + " " + component_state_name(v.state) +
            (v.last_error.empty() ? "" : ": " + v.last_error);
  }
  if (any_running && !any_up) reasons.push_back("every source is down: " + down);
  return reasons;
}

std::vector<Pipeline::SourceView> Pipeline::sources() const {
  std::lock_guard lock(sources_mu_);
  std::vector<SourceView> out;
  for (const auto& r : sources_) {
    out.push_back({r->source().name(), r->protocol(), r->shared_counters(), &r->source(), r->state(), r->last_error()});
  }
  return out;
}

Result<std::uint64_t> Pipeline::replay_dlq(const std::string& target) {
  std::uint64_t total = 0;
  bool found = false;
  for (auto& l : lanes_) {
    if (!target.empty() && l->target() != target) continue;
    found = true;
    if (l->dlq() == nullptr) continue;
    auto n = l->replay_dlq();
    if (!n.is_ok()) return Status(n.status().code(), "target " + l->target() + ": " + n.status().message());
    total += *n;
  }
  if (!found) return not_found("no target named \"" + target + "\"");
  return total;
}

ComponentState Pipeline::source_state(const std::string& name) const {
  const SourceRunner* r = find(name);
  return r == nullptr ? ComponentState::kStopped : r->state();
}

std::vector<const Lane*> Pipeline::lanes() const {
  std::vector<const Lane*> out;
  for (const auto& l : lanes_) out.push_back(l.get());
  return out;
}

Result<std::vector<std::string>> Pipeline::set_delivery_paused(const std::string& sink, bool paused) {
  std::vector<std::string> targets;
  for (const auto& l : lanes_) {
    if (l->sink().name() != sink) continue;
    l->set_delivery_paused(paused);
    targets.push_back(l->target());
  }
  if (targets.empty()) return not_found("no target delivers to sink \"" + sink + "\"");
  return targets;
}

std::string Pipeline::delivery_state(const std::string& sink) const {
  std::string state = "disabled";
  for (const auto& l : lanes_) {
    if (l->sink().name() != sink) continue;
    if (l->delivery_paused()) return "stopped";
    state = "running";
  }
  return state;
}

nlohmann::json Pipeline::status() const {
  nlohmann::json j;
  j["sources"] = nlohmann::json::array();
  std::lock_guard lock(sources_mu_);
  for (const auto& r : sources_) {
    nlohmann::json targets = nlohmann::json::array();
    for (const Lane* l : r->lanes()) targets.push_back(l->target());
    nlohmann::json entry = counters_json(r->counters());
    entry.update({{"name", r->source().name()},
                  {"protocol", r->protocol()},
                  {"state", component_state_name(r->state())},
                  {"last_error", r->last_error()},
                  {"last_error_at", utc_json(r->last_error_at_us())},
                  {"targets", targets}});
    j["sources"].push_back(std::move(entry));
  }
  j["targets"] = nlohmann::json::array();
  for (const auto& l : lanes_) {
    nlohmann::json entry = counters_json(l->counters());
    entry.update({{"name", l->target()},
                  {"sink", l->sink().name()},
                  {"state", component_state_name(l->state())},
                  {"last_error", l->last_error()},
                  {"queue_size", l->queue_size()},
                  {"queue_capacity", l->queue_capacity()},
                  {"circuit_breaker", circuit_state_name(l->circuit_state())},
                  {"delivery", l->delivery_paused() ? "paused" : "running"},
                  {"spool", l->spool_status()},
                  {"dlq",
                   {{"messages", l->dlq() ? l->dlq()->count() : 0},
                    {"path", l->dlq() ? l->dlq()->path() : std::string()}}}});
    j["targets"].push_back(std::move(entry));
  }
  return j;
}

}  // namespace uc::pipeline
