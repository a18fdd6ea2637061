// Pure signal generation: the value of each tag at tick k. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/sample.h"
#include "sources/synthetic/options.h"

namespace uc::sources::synthetic {

class SignalGenerator {
 public:
  // run_id (may be empty) tells runs of the generator apart: seq restarts at 0 in each.
  SignalGenerator(std::vector<TagSpec> tags, std::uint32_t interval_ms, std::uint64_t seed, std::string run_id = {});

  // Appends one sample per tag for tick k (k increases by one per call; the first call
  // is tick 0). Each sample carries metadata seq=k (and run=<run_id> when set) so
  // consumers can prove completeness.
  void tick(TimestampUs now, SampleBatch& out);

  std::uint64_t next_tick() const { return tick_; }
  const std::vector<TagSpec>& tags() const { return tags_; }

 private:
  Value value_at(std::size_t i, double t_s);

  std::vector<TagSpec> tags_;
  std::vector<std::shared_ptr<const TagMeta>> metas_;
  std::vector<double> walk_;
  std::uint32_t interval_ms_;
  std::uint64_t tick_ = 0;
  std::mt19937_64 rng_;
  std::string run_id_;
};

}  // namespace uc::sources::synthetic
