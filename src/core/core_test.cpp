#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include "core/clock.h"

#include "core/record.h"
#include "core/status.h"
#include "core/time_text.h"
#include "core/utf8.h"
#include "core/value.h"

namespace uc {
namespace {

// A wait "until woken" (INT64_MAX) must block until notified; the deadline once overflowed
// the conversion to the clock's nanoseconds, so the wait returned at once (a busy loop).
TEST(SystemClock, AWaitWithoutDeadlineBlocksUntilNotified) {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    SystemClock::instance().wait_until(cv, lock, std::numeric_limits<std::int64_t>::max());
    returned = true;
  });
  // The waiter may not have started yet; either way it must not return unnotified.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(returned.load());
  while (!returned.load()) cv.notify_all();
  waiter.join();
}

TEST(Status, RetryClassification) {
  EXPECT_TRUE(Status(StatusCode::kUnavailable, "x").is_retryable());
  EXPECT_TRUE(Status(StatusCode::kDeadlineExceeded, "x").is_retryable());
  EXPECT_FALSE(Status(StatusCode::kInvalidArgument, "x").is_retryable());
  EXPECT_FALSE(Status(StatusCode::kUnauthenticated, "x").is_retryable());
  EXPECT_FALSE(Status::ok().is_retryable());
  EXPECT_EQ(Status(StatusCode::kUnavailable, "refused").to_string(), "UNAVAILABLE: refused");
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> ok = 5;
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(*ok, 5);
  EXPECT_TRUE(ok.status().is_ok());
  Result<int> bad = invalid_argument("nope");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

struct TextCase {
  Value value;
  const char* text;
  const char* kind;
};

TEST(Value, TextAndKind) {
  const TextCase cases[] = {
      {Value{}, "", "null"},
      {Value{true}, "true", "bool"},
      {Value{false}, "false", "bool"},
      {Value{std::int64_t{-42}}, "-42", "int64"},
      {Value{std::numeric_limits<std::int64_t>::min()}, "-9223372036854775808", "int64"},
      {Value{std::numeric_limits<std::uint64_t>::max()}, "18446744073709551615", "uint64"},
      {Value{0.1}, "0.1", "double"},
      {Value{1e300}, "1e+300", "double"},
      {Value{std::numeric_limits<double>::quiet_NaN()}, "NaN", "double"},
      {Value{-std::numeric_limits<double>::infinity()}, "-Infinity", "double"},
      {Value{std::string("héllo")}, "héllo", "string"},
      {Value{Bytes{{0x00, 0xFF, 0x10}}}, "AP8Q", "bytes"},
      {Value{Bytes{{'a'}}}, "YQ==", "bytes"},
      {Value{Array{{Scalar{1.5}, Scalar{std::int64_t{2}}, Scalar{std::string("a\"b")}, Scalar{}}}},
       "[1.5,2,\"a\\\"b\",null]", "array"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(value_to_text(c.value), c.text);
    EXPECT_STREQ(value_kind_name(kind_of(c.value)), c.kind);
  }
}

TEST(Value, NumericForm) {
  double d = 0;
  EXPECT_TRUE(value_to_double(Value{true}, &d));
  EXPECT_EQ(d, 1.0);
  EXPECT_TRUE(value_to_double(Value{std::uint64_t{7}}, &d));
  EXPECT_EQ(d, 7.0);
  EXPECT_FALSE(value_to_double(Value{std::string("7")}, &d));
  EXPECT_FALSE(value_to_double(Value{}, &d));
}

TEST(TimeText, Rfc3339UtcWithMilliseconds) {
  EXPECT_EQ(utc_text(1'714'557'600'123'456), "2024-05-01T10:00:00.123Z");
  EXPECT_EQ(utc_text(1), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(utc_text(0), "");
  EXPECT_EQ(utc_text(-5), "");
}

TEST(Base64, Rfc4648Vectors) {
  auto enc = [](const std::string& s) {
    return base64_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foob"), "Zm9vYg==");
  EXPECT_EQ(enc("fooba"), "Zm9vYmE=");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace uc

namespace uc {
namespace {

TEST(Utf8, AcceptsWellFormedAndRejectsEveryIllFormedKind) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA4\xC3\x9F\xE2\x82\xAC\xF0\x9D\x84\x9E"));  // häß€𝄞
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                                // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));                                       // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));                                   // overlong, 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));                                   // surrogate D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));                               // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));                                       // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));                                           // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xF8\x88\x80\x80\x80"));                           // 5-byte form
  EXPECT_EQ(utf8_sequence_length("a\xE2\x82\xAC", 1), 3U);
  EXPECT_EQ(utf8_sequence_length("\xE2\x82", 0), 0U);
}

}  // namespace
}  // namespace uc
