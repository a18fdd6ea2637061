// A lane's options from `backpressure:` and its sink kind's batch limits (no I/O).
#pragma once

#include <string>

#include "config/config.h"
#include "pipeline/lane.h"

namespace uc::pipeline {

// Where the files of one lane (target × sink) live: <base>/<target>[.<sink>], the sink
// suffix only when the target has more than one sink, so the common case reads simply.
// '/' and NUL in the target become '_'.
std::string lane_directory(const std::string& base, const std::string& target, const std::string& sink,
                           bool several_sinks);

struct LanePlace {
  std::string target;
  std::string sink;
  bool several_sinks = false;  // the target has lanes for more than one sink kind
  bool use_spool = true;       // false: memory only, no spool and no DLQ (`read`)
};

LaneOptions lane_options_from(const config::BackpressureConfig& backpressure, const config::BatchConfig& batch,
                              const LanePlace& place);

}  // namespace uc::pipeline
