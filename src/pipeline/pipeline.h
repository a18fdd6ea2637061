// The runtime that wires sources → normalize → lanes (queue, batcher, sink).
//
// Threads: each source runs on its runtime loop (pipeline/source_loop.h); each lane has one worker; publish() runs on the
// source's thread and normalizes there. The pipeline's own methods (add_*, start,
// stop, status) are called from the control thread.
//
// Latest values: publish() also writes each record into latest_values() (one slot per tag
// path, latest_values.h); a source's tags are dropped from it when the source is removed or
// replaced.
//
// Shutdown (stop): sources are stopped first, so nothing new arrives; then every lane
// delivers what it holds until the drain deadline; what is still undelivered then is
// dropped, counted (reason "shutdown") and logged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "normalize/normalizer.h"
#include "pipeline/latest_values.h"
#include "pipeline/lane.h"
#include "pipeline/source.h"
#include "pipeline/source_loop.h"

namespace uc::pipeline {

struct SourceCounters {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> normalized{0};
  std::atomic<std::uint64_t> reconnections{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> path_collisions{0};  // tags given another path than their own (normalizer)
};

class SourceRunner;

class Pipeline {
 public:
  explicit Pipeline(const Clock& clock, std::size_t latest_values_capacity = LatestValues::kDefaultCapacity);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  Status add_lane(LaneOptions options, std::unique_ptr<Sink> sink);
  // targets: every lane (by target name) this source's records are delivered to.
  // After start() the source starts at once. Names are unique.
  Status add_source(std::unique_ptr<Source> source, std::unique_ptr<normalize::Normalizer> normalizer,
                    const std::vector<std::string>& targets, std::string protocol,
                    SourceRuntimeOptions runtime = {});

  // Starts lanes, then sources. A source that fails to start is reported failed and
  // does not stop the others; a lane that fails to start is an error.
  Status start();
  void stop(std::chrono::milliseconds drain_timeout);

  // One source while the others run (kNotFound for an unknown name). stop_source returns
  // when the source's body has returned; its counters and queued records stay. A
  // replaced source (same name) keeps its counters and targets; it runs if the old one ran.
  Status start_source(const std::string& name);
  Status stop_source(const std::string& name);
  Status replace_source(std::unique_ptr<Source> source, std::unique_ptr<normalize::Normalizer> normalizer,
                        SourceRuntimeOptions runtime = {});
  // Stops the source and releases it (kNotFound for an unknown name); the others run on.
  // Records it has already handed over stay in its targets' lanes and are delivered like
  // any other: a lane's queue and spool belong to the target, shared by its sources, so
  // nothing is taken back. With a drain_timeout above zero it also waits, up to that
  // long, until every batch the source published is durable downstream (spooled, or
  // delivered on a lane without spool) or counted as dropped/rejected;
  // kDeadlineExceeded when time ran out (the source is removed all the same). Its
  // counters stay readable by metrics callbacks bound earlier.
  Status remove_source(const std::string& name, std::chrono::milliseconds drain_timeout = {});

  nlohmann::json status() const;

  struct SourceView {
    std::string name;
    std::string protocol;
    std::shared_ptr<const SourceCounters> counters;  // shared: outlives a removed source
    const Source* source;
    ComponentState state;
    std::string last_error;
  };
  std::vector<SourceView> sources() const;
  std::vector<const Lane*> lanes() const;
  // Why the pipeline cannot do its job now (empty: ready): a target whose sink failed to
  // start or whose circuit breaker is open, and every running source down (none
  // connected or degraded; stopped sources do not count).
  std::vector<std::string> unready_reasons() const;
  // Pauses or resumes delivery on every lane whose sink is named `sink` (Lane::
  // set_delivery_paused): the targets changed, or kNotFound when no lane has that sink.
  // Any thread.
  Result<std::vector<std::string>> set_delivery_paused(const std::string& sink, bool paused);
  // "disabled" (no lane has that sink), "stopped" (a lane of it is paused) or "running".
  std::string delivery_state(const std::string& sink) const;
  // Replays the DLQ of one target (every target when empty) into its lane.
  Result<std::uint64_t> replay_dlq(const std::string& target);
  // kStopped for an unknown name.
  ComponentState source_state(const std::string& name) const;
  // Thread-safe; what GET /api/tags reads.
  const LatestValues& latest_values() const { return latest_values_; }
  const Clock& clock() const { return clock_; }

 private:
  SourceRunner* find(const std::string& name) const;

  const Clock& clock_;
  LatestValues latest_values_;  // before sources_: their Writers point into it
  std::vector<std::unique_ptr<Lane>> lanes_;
  mutable std::mutex sources_mu_;  // sources_ (the list; each runner guards itself)
  std::vector<std::unique_ptr<SourceRunner>> sources_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace uc::pipeline
