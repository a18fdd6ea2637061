// Options of the synthetic source: a deterministic generator of plant-like signals
// for the demo, the tests and the benchmarks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace uc::sources::synthetic {

enum class Generator { kSine, kRamp, kRandomWalk, kStep, kCounter, kBool, kString };
const char* generator_name(Generator g);
bool parse_generator(const std::string& text, Generator* out);

struct TagSpec {
  std::string name;
  Generator generator = Generator::kSine;
  std::string unit;
  std::string signal_type;
  std::string equipment;  // overrides the source's equipment for this tag
  double min = 0.0;
  double max = 100.0;
  double period_s = 60.0;
  std::optional<double> eng_low;
  std::optional<double> eng_high;
  std::uint32_t bad_every = 0;  // every Nth sample reports a communication error (0 = never)
};

struct Options {
  // Explicit tags; when empty, `tag_count` tags are made, cycling through `generators`.
  std::vector<TagSpec> tags;
  std::uint32_t tag_count = 10;
  std::vector<Generator> generators = {Generator::kSine,    Generator::kRamp, Generator::kRandomWalk,
                                       Generator::kStep,    Generator::kCounter, Generator::kBool,
                                       Generator::kString};
  std::uint32_t interval_ms = 1000;  // one sample of every tag per interval; 0 = as fast as accepted
  std::uint64_t max_ticks = 0;       // stop emitting after this many intervals (0 = never)
  std::uint64_t seed = 1;

  // The tag list actually generated (explicit tags, or the derived ones).
  std::vector<TagSpec> effective_tags() const;
};

}  // namespace uc::sources::synthetic
