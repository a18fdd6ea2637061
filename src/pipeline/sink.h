// The Sink contract (DESIGN.md "Components").
//
// - start() opens files/connections; write() is called only from the target's own
//   worker thread, one batch at a time, and may block; stop() flushes and closes.
// - write() answers exactly once: every record delivered (durable), a retry with the
//   status that caused it (nothing of the batch is considered written), or delivered
//   except the listed records, which are rejected for good with a reason.
// - Sinks never loop or back off themselves: the pipeline owns retry and backoff.
// - A sink that writes to local disk names its directory (storage_path()) and reports a
//   full disk as RESOURCE_EXHAUSTED: when that disk is also the spool's, the lane stops
//   the spool from taking space while the sink lacks it (lane.h).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/record.h"
#include "core/status.h"

namespace uc::pipeline {

struct Rejection {
  std::size_t index;
  std::string reason;
};

struct WriteResult {
  Status status;                  // not ok → retry the whole batch
  std::vector<Rejection> rejected;  // only meaningful when status is ok

  static WriteResult delivered() { return {}; }
  static WriteResult retry(Status s) { return {std::move(s), {}}; }
  static WriteResult partial(std::vector<Rejection> r) { return {Status::ok(), std::move(r)}; }
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual const std::string& name() const = 0;
  virtual Status start() = 0;
  virtual WriteResult write(const std::vector<Record>& batch) = 0;
  virtual void stop() = 0;
  // The local directory the sink writes into; "" (the default) for sinks that do not.
  virtual std::string storage_path() const { return {}; }
};

}  // namespace uc::pipeline
