#include "telemetry/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <regex>
#include <sstream>

namespace uc::telemetry {
namespace {

using namespace std::chrono_literals;

TEST(Log, ParsesLevels) {
  EXPECT_EQ(*parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(*parse_log_level("warning"), spdlog::level::warn);
  EXPECT_EQ(*parse_log_level("off"), spdlog::level::off);
  auto bad = parse_log_level("loud");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(init_logging("loud").is_ok());
}

TEST(Log, LineFormatAndLevelFilter) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  ASSERT_TRUE(init_logging("info", sink).is_ok());
  auto log = get_logger("modbus");
  EXPECT_EQ(log, get_logger("modbus"));
  log->debug("hidden");
  log->warn("read failed {} {}", kv("device", "plc1"), kv("error", "timed out"));
  log->flush();
  const std::string text = out.str();
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  static const std::regex kLine(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning \[modbus\] read failed device=plc1 error="timed out"\n)");
  EXPECT_TRUE(std::regex_match(text, kLine)) << text;
  ASSERT_TRUE(init_logging("info").is_ok());  // back to stderr for the other tests
}

TEST(Log, KeyValueQuoting) {
  EXPECT_EQ(kv("n", 42), "n=42");
  EXPECT_EQ(kv("path", "a/b.c"), "path=a/b.c");
  EXPECT_EQ(kv("msg", "two words"), "msg=\"two words\"");
  EXPECT_EQ(kv("q", "say \"hi\"\n"), "q=\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(kv("e", ""), "e=\"\"");
  EXPECT_EQ(kv("eq", "a=b"), "eq=\"a=b\"");
  EXPECT_EQ(kv("ctl", std::string("a\x01", 2)), "ctl=\"a\\x01\"");
}

TEST(RateLimitedLog, AllowsNPerIntervalAndReportsSuppressed) {
  ManualClock clock;
  RateLimitedLog limiter(clock, 2, 1s);
  EXPECT_EQ(limiter.admit("k"), std::optional<std::uint64_t>(0));
  EXPECT_EQ(limiter.admit("k"), std::optional<std::uint64_t>(0));
  EXPECT_EQ(limiter.admit("k"), std::nullopt);
  EXPECT_EQ(limiter.admit("k"), std::nullopt);
  EXPECT_EQ(limiter.admit("k"), std::nullopt);
  // Other keys are independent.
  EXPECT_EQ(limiter.admit("other"), std::optional<std::uint64_t>(0));
  clock.advance_us(999'999);
  EXPECT_EQ(limiter.admit("k"), std::nullopt);
  clock.advance_us(1);
  EXPECT_EQ(limiter.admit("k"), std::optional<std::uint64_t>(4));
  EXPECT_EQ(limiter.admit("k"), std::optional<std::uint64_t>(0));
  EXPECT_EQ(limiter.suppressed_total(), 4u);
}

TEST(RateLimitedLog, LogsSuppressedCountOnNextMessage) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%v");
  spdlog::logger logger("test", sink);
  logger.set_level(spdlog::level::info);

  ManualClock clock;
  RateLimitedLog limiter(clock, 1, 10s);
  EXPECT_TRUE(limiter.log(logger, spdlog::level::warn, "plc1/read", "read failed unit={}", 1));
  EXPECT_FALSE(limiter.log(logger, spdlog::level::warn, "plc1/read", "read failed unit={}", 2));
  EXPECT_FALSE(limiter.log(logger, spdlog::level::warn, "plc1/read", "read failed unit={}", 3));
  clock.advance_us(10'000'000);
  EXPECT_TRUE(limiter.log(logger, spdlog::level::warn, "plc1/read", "read failed unit={}", 4));
  // Below the logger's level nothing is logged or counted.
  EXPECT_FALSE(limiter.log(logger, spdlog::level::debug, "plc1/read", "noise"));
  logger.flush();
  EXPECT_EQ(out.str(), "read failed unit=1\nread failed unit=4 (suppressed 2 similar messages)\n");
}

TEST(RateLimitedLog, ManyKeysArePrunedWithoutLosingCounts) {
  ManualClock clock;
  RateLimitedLog limiter(clock, 1, 1s);
  ASSERT_TRUE(limiter.admit("noisy").has_value());
  EXPECT_FALSE(limiter.admit("noisy").has_value());
  clock.advance_us(2'000'000);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.admit("key" + std::to_string(i)).has_value());
  EXPECT_EQ(limiter.admit("noisy"), std::optional<std::uint64_t>(1));
}

}  // namespace
}  // namespace uc::telemetry
