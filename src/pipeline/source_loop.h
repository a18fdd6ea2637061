// The source runtime: one lifecycle for every source (DESIGN.md "Concurrency", ADR 0005).
//
// - SourceLoop owns the execution of one Source: start() spawns one thread that calls
//   Source::run(ctx) and returns at once; request_stop() sets the stop flag, wakes every
//   wait of the body and calls the interrupt hook the body registered (which cancels a
//   blocking socket call); stop() does that and joins. start() after stop() runs the body
//   again (a restart); between runs the loop may be given another Source (a replace).
//   After run() returns the state is kStopped. Stopping takes as long as the body needs
//   to notice: a wait returns at once, a blocking call when its interrupt hook works.
// - The body talks to the pipeline only through SourceContext: the stop flag; waits on
//   the injected clock (a test's ManualClock moves time, nothing sleeps); the reconnect
//   cycle with its back-off (the common source keys backoff_initial_ms/backoff_max_ms);
//   state reporting, deduplicated and logged quietly; publishing; bad-sample records.
// - Threads: SourceContext methods are for the body's thread, except stopping(), which
//   any thread may call. SourceLoop's methods are for one control thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/sample.h"
#include "config/config.h"
#include "core/status.h"
#include "pipeline/source.h"
#include "telemetry/log.h"

namespace uc::pipeline {

// The keys every source accepts whatever its protocol.
struct SourceRuntimeOptions {
  std::string endpoint;            // for log lines ("not connected to <endpoint>")
  int backoff_initial_ms = 500;    // first retry after a failure; doubles, ±20 % jitter
  int backoff_max_ms = 30000;      // cap of the doubling
  std::uint64_t backoff_seed = 0;  // 0: random; tests fix it
};

// From the common keys of a configured source.
SourceRuntimeOptions runtime_options_from(const config::SourceConfig& source);

class SourceContext {
 public:
  SourceContext(std::string name, const SourceRuntimeOptions& options, Emitter& emitter);
  SourceContext(const SourceContext&) = delete;
  SourceContext& operator=(const SourceContext&) = delete;

  const std::string& name() const { return name_; }
  const std::string& endpoint() const { return options_.endpoint; }
  const Clock& clock() const { return emitter_.clock(); }
  std::int64_t steady_us() const { return clock().steady_us(); }

  // ---- stop and waits ----
  bool stopping() const;
  // Waits until the clock's steady time reaches deadline_us or stop is requested;
  // returns false when stopping.
  bool wait_until(std::int64_t deadline_us);
  bool wait_for(std::chrono::milliseconds d) { return wait_until(steady_us() + d.count() * 1000); }
  // Called (from the control thread) when stop is requested while the hook is set: it
  // must make a blocking call of the body return soon (cancel, shut a socket down). The
  // hook is cleared when the returned guard goes out of scope.
  class InterruptScope;
  [[nodiscard]] InterruptScope on_interrupt(std::function<void()> hook);

  // ---- the reconnect cycle ----
  // Waits until the next connection attempt is due (at once on the first) and counts a
  // reconnection attempt when an earlier connection existed. False when stopping.
  bool wait_to_connect();
  // When a new connection has proven itself and the back-off starts again:
  //  - kNow: at connected() (the source connects only once it has read something);
  //  - kOnData: at the first data_flowed() of the connection, or when it fails after
  //    lasting at least backoff_max_ms. For a peer that accepts every connection and then
  //    drops it (an MQTT broker redelivering a message we fail on), so that the retries
  //    slow down instead of looping at backoff_initial_ms.
  enum class BackoffReset { kNow, kOnData };
  // A connection is up: state kConnected; the back-off starts again as `reset` says, and
  // then a reconnection is logged.
  void connected(BackoffReset reset = BackoffReset::kNow);
  // The connection carries data (after connected(kOnData)): the back-off starts again.
  // Cheap to call for every message.
  void data_flowed();
  // An attempt failed or the connection broke: the error is counted, the state is
  // kConnecting with the cause, the next attempt is due after the back-off, and a line is
  // logged (rate-limited, so a flapping peer does not flood the log). Ignored while
  // stopping: a socket shut down by the stop is not the peer's failure.
  void connection_failed(const Status& cause);
  int failures() const { return failures_; }
  // The source's back-off, for retries within a connection (a Modbus unit that times out).
  Backoff& backoff() { return backoff_; }

  // ---- state, counters, records ----
  // Forwards to the pipeline when the state or detail changed.
  void set_state(ComponentState state, std::string_view detail = {});
  ComponentState state() const { return state_; }
  void count_error(std::string_view what) { emitter_.count_error(what); }
  // False when the pipeline refused records because it is stopping: the body should return.
  bool publish(SampleBatch&& batch, AckCallback on_durable = nullptr);
  // See Emitter::dead_letter: into every target's DLQ with the reason, durably.
  Status dead_letter(Sample&& sample, std::string_view reason) { return emitter_.dead_letter(std::move(sample), reason); }
  // A sample for a tag the protocol could not read: no value, `status` says why.
  Sample bad_sample(const std::string& address, const std::shared_ptr<const TagMeta>& meta,
                    const ProtocolStatus& status) const;

 private:
  friend class SourceLoop;
  void begin_run();                 // by the loop, before each run
  void end_run();                   // by the loop, after each run: kStopped, always reported
  void request_stop();              // any thread
  void reset_backoff();             // failures_ = 0; logs a reconnection after failures
  std::string name_;
  SourceRuntimeOptions options_;
  Emitter& emitter_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;               // guarded by mu_
  std::mutex hook_mu_;              // held while the hook is set, cleared or run
  std::function<void()> interrupt_; // guarded by hook_mu_
  Backoff backoff_;
  telemetry::RateLimitedLog log_limit_;
  int failures_ = 0;
  bool had_connection_ = false;
  bool awaiting_data_ = false;      // connected(kOnData) and no data_flowed() yet
  std::int64_t connected_at_us_ = 0;
  std::int64_t retry_at_us_ = 0;
  std::int64_t lost_at_us_ = 0;
  ComponentState state_ = ComponentState::kStopped;
  std::string detail_;
};

class SourceContext::InterruptScope {
 public:
  explicit InterruptScope(SourceContext* ctx) : ctx_(ctx) {}
  InterruptScope(InterruptScope&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  InterruptScope& operator=(InterruptScope&&) = delete;
  ~InterruptScope();

 private:
  SourceContext* ctx_;
};

class SourceLoop {
 public:
  // `source` and `emitter` must outlive the loop (or the next set_source()).
  SourceLoop(Source& source, Emitter& emitter, SourceRuntimeOptions options);
  ~SourceLoop();
  SourceLoop(const SourceLoop&) = delete;
  SourceLoop& operator=(const SourceLoop&) = delete;

  // Runs the body on a new thread. kFailedPrecondition when it is running.
  Status start();
  // Asks the body to stop without waiting (safe to call twice).
  void request_stop();
  // request_stop() and join. Idempotent.
  void stop();
  bool running() const { return thread_.joinable(); }
  // Another Source (and options) for the next start(); only while stopped.
  Status set_source(Source& source, SourceRuntimeOptions options);

 private:
  Source* source_;
  Emitter& emitter_;
  std::unique_ptr<SourceContext> ctx_;
  std::thread thread_;
};

}  // namespace uc::pipeline
