#include "core/backoff.h"

#include <algorithm>
#include <cmath>

namespace uc {

Backoff::Backoff(int initial_ms, int max_ms) : Backoff(initial_ms, max_ms, std::random_device{}()) {}

Backoff::Backoff(int initial_ms, int max_ms, std::uint64_t seed)
    : initial_ms_(std::max(initial_ms, 0)), max_ms_(std::max(max_ms, 0)), rng_(seed) {}

double Backoff::base_ms(int failures) const {
  // 2^30 already exceeds any cap in milliseconds that an int can hold. (Not
  // failures - 1 first: that overflows for INT_MIN.)
  const int exponent = failures <= 1 ? 0 : std::min(failures, 31) - 1;
  return std::min(static_cast<double>(max_ms_), static_cast<double>(initial_ms_) * std::ldexp(1.0, exponent));
}

std::chrono::milliseconds Backoff::delay(int failures) {
  std::uniform_real_distribution<double> jitter(kJitterLow, kJitterHigh);
  return std::chrono::milliseconds(static_cast<std::int64_t>(base_ms(failures) * jitter(rng_)));
}

}  // namespace uc
