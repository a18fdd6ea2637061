// The Source contract (DESIGN.md "Components").
//
// - A source is built by its factory (config validated, nothing opened) and run by the
//   source runtime (pipeline/source_loop.h): Source::run is the body, called on the
//   runtime's thread, and returns when ctx.stopping() says so (or when it has nothing
//   more to do). The runtime owns the thread, stop, waits, back-off and state; a source
//   holds no thread, stop flag or condition variable of its own. run() may be called
//   again after it returned (a restart): it starts from its configuration each time.
// - A source hands samples to the pipeline in batches through SourceContext::publish,
//   which normalizes on the calling thread and enqueues; under the `block` policy it
//   waits for room — that wait is the backpressure a source feels (polling slows down,
//   MQTT stops acknowledging).
// - on_durable is called exactly once per published batch, on a pipeline thread, when
//   every record of the batch is resolved: delivered by every sink it was routed to, or
//   dropped/rejected and counted. Sources use it to acknowledge upstream (MQTT PUBACK)
//   only when their data is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/sample.h"
#include "core/status.h"

namespace uc::pipeline {

// component_state_name() gives the `state` label of uc_source_state (pipeline/metrics.h).
enum class ComponentState { kStopped, kConnecting, kConnected, kDegraded, kFailed };
const char* component_state_name(ComponentState s);

struct BatchOutcome {
  std::size_t delivered = 0;  // acknowledged as durable by the sink(s)
  std::size_t dropped = 0;    // dropped by a configured policy or at shutdown (counted in metrics)
  std::size_t rejected = 0;   // rejected for good by a sink (counted; DLQ once it exists)
  bool all_delivered() const { return dropped == 0 && rejected == 0; }
};
using AckCallback = std::function<void(const BatchOutcome&)>;

// The pipeline's side of a running source (implemented by the pipeline, and by tests).
class Emitter {
 public:
  virtual ~Emitter() = default;
  // Always takes the whole batch and always calls on_durable once (for a non-empty
  // batch). Returns kCancelled when the pipeline is stopping and some records could
  // not be accepted: those are resolved as dropped (reason "shutdown") and counted.
  virtual Status publish(SampleBatch&& batch, AckCallback on_durable) = 0;
  // Something the source took from its peer but cannot turn into data (an MQTT message it
  // cannot decode), as one sample (address, raw value, bad status): normalized and written
  // with `reason` to the DLQ of every target the source is routed to, before this returns,
  // so the source may then acknowledge it upstream. Counted per target as dead-lettered, or
  // as rejected-and-dropped where there is no DLQ or it cannot be written (then an error).
  virtual Status dead_letter(Sample&& sample, std::string_view reason) = 0;
  // State for /api/status; detail is the last error when degraded/failed.
  virtual void report_state(ComponentState state, std::string_view detail) = 0;
  virtual void count_reconnection() = 0;
  virtual void count_error(std::string_view what) = 0;
  virtual const Clock& clock() const = 0;
};

// A protocol's own counter beyond the common ones (e.g. Sparkplug B rebirth requests):
// exported as the counter family `uc_<name>` labelled by source. `value` is called from
// any thread (the metrics endpoint) for as long as the source exists.
struct ExtraCounter {
  std::string name;
  std::string help;
  std::function<std::uint64_t()> value;
};

class SourceContext;

class Source {
 public:
  virtual ~Source() = default;
  virtual const std::string& name() const = 0;
  // The body, on the runtime's thread; see the contract above.
  virtual void run(SourceContext& ctx) = 0;
  // Fixed for the source's lifetime; none by default.
  virtual std::vector<ExtraCounter> extra_counters() const { return {}; }
};

}  // namespace uc::pipeline
