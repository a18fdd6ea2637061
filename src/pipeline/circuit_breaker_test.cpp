#include "pipeline/circuit_breaker.h"

#include <gtest/gtest.h>

namespace uc::pipeline {
namespace {

using State = CircuitBreaker::State;

TEST(CircuitBreaker, OpensAfterThresholdAndProbesAfterTheOpenPeriod) {
  ManualClock clock;
  CircuitBreaker cb({3, std::chrono::milliseconds(1000)}, clock);
  EXPECT_TRUE(cb.allow());
  cb.on_failure();
  cb.on_failure();
  EXPECT_EQ(cb.state(), State::kClosed);
  cb.on_failure();
  EXPECT_EQ(cb.state(), State::kOpen);
  EXPECT_FALSE(cb.allow());
  EXPECT_EQ(cb.wait_time(), std::chrono::milliseconds(1000));
  clock.advance_us(999'000);
  EXPECT_FALSE(cb.allow());
  EXPECT_EQ(cb.wait_time(), std::chrono::milliseconds(1));
  clock.advance_us(1'000);
  EXPECT_TRUE(cb.allow());
  EXPECT_EQ(cb.state(), State::kHalfOpen);
  cb.on_success();
  EXPECT_EQ(cb.state(), State::kClosed);
  EXPECT_EQ(cb.times_opened(), 1u);
}

TEST(CircuitBreaker, FailedProbeReopensForAnotherPeriod) {
  ManualClock clock;
  CircuitBreaker cb({1, std::chrono::milliseconds(500)}, clock);
  cb.on_failure();
  ASSERT_EQ(cb.state(), State::kOpen);
  clock.advance_us(500'000);
  ASSERT_TRUE(cb.allow());
  cb.on_failure();
  EXPECT_EQ(cb.state(), State::kOpen);
  EXPECT_FALSE(cb.allow());
  EXPECT_EQ(cb.times_opened(), 2u);
}

TEST(CircuitBreaker, SuccessResetsTheFailureCount) {
  ManualClock clock;
  CircuitBreaker cb({3, std::chrono::milliseconds(500)}, clock);
  cb.on_failure();
  cb.on_failure();
  cb.on_success();
  cb.on_failure();
  cb.on_failure();
  EXPECT_EQ(cb.state(), State::kClosed);
}

}  // namespace
}  // namespace uc::pipeline
