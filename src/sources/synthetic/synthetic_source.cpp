#include "sources/synthetic/synthetic_source.h"

#include <chrono>
#include <cstdio>
#include <random>

namespace uc::sources::synthetic {

SyntheticSource::SyntheticSource(std::string name, Options options)
    : name_(std::move(name)), options_(std::move(options)) {}

SyntheticSource::~SyntheticSource() { stop(); }

Status SyntheticSource::start(pipeline::Emitter& emitter) {
  if (thread_.joinable()) return {StatusCode::kFailedPrecondition, "already started"};
  stop_ = false;
  thread_ = std::thread([this, &emitter] { run(emitter); });
  return Status::ok();
}

void SyntheticSource::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SyntheticSource::run(pipeline::Emitter& emitter) {
  // A new run id per start: seq restarts at 0, and (run, seq) stays unique per tag.
  char run_id[17];
  std::snprintf(run_id, sizeof run_id, "%016llx",
                static_cast<unsigned long long>(std::random_device{}()) << 32 ^
                    static_cast<unsigned long long>(emitter.clock().now_us()));
  SignalGenerator gen(options_.effective_tags(), options_.interval_ms, options_.seed, run_id);
  emitter.report_state(pipeline::ComponentState::kConnected, "");
  const auto interval = std::chrono::milliseconds(options_.interval_ms);
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (options_.interval_ms > 0) cv_.wait_until(lock, next, [&] { return stop_; });
      if (stop_) return;
    }
    if (options_.max_ticks > 0 && gen.next_tick() >= options_.max_ticks) {
      // Done: idle until stopped.
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_; });
      return;
    }
    SampleBatch batch;
    gen.tick(emitter.clock().now_us(), batch);
    Status s = emitter.publish(std::move(batch), nullptr);
    if (!s.is_ok()) return;  // the pipeline is stopping
    next += interval;
    auto now = std::chrono::steady_clock::now();
    if (next < now - interval * 10) next = now;  // fell far behind (backpressure): do not burst
  }
}

}  // namespace uc::sources::synthetic
