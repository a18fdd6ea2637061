#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

#include "core/backoff.h"

namespace uc {
namespace {

TEST(Backoff, GrowsByTwoUntilTheCap) {
  const Backoff b(100, 30000, 1);
  EXPECT_EQ(b.base_ms(1), 100.0);
  EXPECT_EQ(b.base_ms(2), 200.0);
  EXPECT_EQ(b.base_ms(3), 400.0);
  EXPECT_EQ(b.base_ms(9), 25600.0);
  EXPECT_EQ(b.base_ms(10), 30000.0);  // 51200 capped
  EXPECT_EQ(b.base_ms(1000), 30000.0);
  EXPECT_EQ(b.base_ms(std::numeric_limits<int>::max()), 30000.0);
}

TEST(Backoff, NoFailuresCountsAsTheFirstRetry) {
  const Backoff b(250, 10000, 1);
  EXPECT_EQ(b.base_ms(0), 250.0);
  EXPECT_EQ(b.base_ms(-5), 250.0);
  EXPECT_EQ(b.base_ms(std::numeric_limits<int>::min()), 250.0);
}

TEST(Backoff, JitterStaysWithinTwentyPercentAndUsesTheRange) {
  Backoff b(1000, 60000, 7);
  for (int failures : {1, 3, 7, 20}) {
    const double base = b.base_ms(failures);
    std::int64_t lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t hi = 0;
    for (int i = 0; i < 5000; ++i) {
      const std::int64_t d = b.delay(failures).count();
      EXPECT_GE(d, static_cast<std::int64_t>(base * 0.8) - 1);
      EXPECT_LT(d, static_cast<std::int64_t>(base * 1.2) + 1);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // 5000 draws cover the range: both ends within 1 % of it.
    EXPECT_LT(static_cast<double>(lo), base * 0.81) << failures;
    EXPECT_GT(static_cast<double>(hi), base * 1.19) << failures;
  }
}

TEST(Backoff, CappedDelayNeverExceedsTheCapPlusJitter) {
  Backoff b(100, 5000, 3);
  for (int i = 0; i < 2000; ++i) {
    const auto d = b.delay(40).count();
    EXPECT_GE(d, 4000);
    EXPECT_LT(d, 6000);
  }
}

TEST(Backoff, SameSeedSameDelaysDifferentSeedDifferentDelays) {
  Backoff a(100, 30000, 42);
  Backoff b(100, 30000, 42);
  Backoff c(100, 30000, 43);
  int differ = 0;
  for (int f = 1; f <= 20; ++f) {
    const auto da = a.delay(f);
    EXPECT_EQ(da, b.delay(f));
    if (da != c.delay(f)) ++differ;
  }
  EXPECT_GT(differ, 10);
}

TEST(Backoff, HostileLimitsGiveNoNegativeDelay) {
  Backoff zero(0, 0, 1);
  EXPECT_EQ(zero.delay(5).count(), 0);
  Backoff negative(-100, -1, 1);
  EXPECT_EQ(negative.delay(1).count(), 0);
  Backoff huge(std::numeric_limits<int>::max(), std::numeric_limits<int>::max(), 1);
  EXPECT_LE(huge.delay(31).count(), static_cast<std::int64_t>(std::numeric_limits<int>::max() * 1.2) + 1);
  EXPECT_GE(huge.delay(31).count(), 0);
}

}  // namespace
}  // namespace uc
