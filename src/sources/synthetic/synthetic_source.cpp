#include "sources/synthetic/synthetic_source.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "pipeline/source_loop.h"

namespace uc::sources::synthetic {

SyntheticSource::SyntheticSource(std::string name, Options options)
    : name_(std::move(name)), options_(std::move(options)) {}

void SyntheticSource::run(pipeline::SourceContext& ctx) {
  // A new run id per start: seq restarts at 0, and (run, seq) stays unique per tag.
  char run_id[17];
  std::snprintf(run_id, sizeof run_id, "%016llx",
                static_cast<unsigned long long>(std::random_device{}()) << 32 ^
                    static_cast<unsigned long long>(ctx.clock().now_us()));
  SignalGenerator gen(options_.effective_tags(), options_.interval_ms, options_.seed, run_id);
  ctx.set_state(pipeline::ComponentState::kConnected);
  const std::int64_t interval_us = std::int64_t{options_.interval_ms} * 1000;
  std::int64_t next = ctx.steady_us();
  for (;;) {
    if (!ctx.wait_until(next)) return;
    if (options_.max_ticks > 0 && gen.next_tick() >= options_.max_ticks) {
      ctx.wait_until(INT64_MAX);  // done: idle until stopped
      return;
    }
    SampleBatch batch;
    gen.tick(ctx.clock().now_us(), batch);
    if (!ctx.publish(std::move(batch))) return;  // the pipeline is stopping
    next += interval_us;
    const std::int64_t now = ctx.steady_us();
    if (next < now - interval_us * 10) next = now;  // fell far behind (backpressure): do not burst
  }
}

}  // namespace uc::sources::synthetic
