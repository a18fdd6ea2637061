// Reconnect back-off shared by the sources: exponential growth from `initial`,
// capped at `max`, with ±20 % jitter so that many connectors losing the same peer do
// not reconnect in step.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace uc {

class Backoff {
 public:
  static constexpr double kJitterLow = 0.8;
  static constexpr double kJitterHigh = 1.2;

  // Seeded from std::random_device.
  Backoff(int initial_ms, int max_ms);
  // A fixed seed, for tests.
  Backoff(int initial_ms, int max_ms, std::uint64_t seed);

  // The delay before retry number `failures` (1 = the first retry; less counts as 1):
  // initial_ms * 2^(failures-1), capped at max_ms, then times a uniform factor in
  // [0.8, 1.2) — so a delay is never above 1.2 * max_ms. Never negative.
  std::chrono::milliseconds delay(int failures);

  // The same without the jitter.
  double base_ms(int failures) const;

 private:
  int initial_ms_;
  int max_ms_;
  std::mt19937_64 rng_;
};

}  // namespace uc
