#include "sources/mqtt/payload.h"

#include <gtest/gtest.h>

namespace uc::sources::mqtt {
namespace {

constexpr TimestampUs kNow = 1'700'000'000'000'000;

SampleBatch ok(Result<SampleBatch> r) {
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? std::move(*r) : SampleBatch{};
}

TEST(MqttJson, OnePointWithValueTimestampAndQuality) {
  JsonMapping m;
  m.timestamp_field = "ts";
  auto b = ok(map_json("f/l1/press/temp", R"({"value": 21.5, "ts": 1700000000123, "quality": "bad"})", m, kNow));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].address, "f/l1/press/temp");
  EXPECT_EQ(std::get<double>(b[0].value), 21.5);
  EXPECT_EQ(*b[0].source_time, 1700000000123000);
  EXPECT_EQ(b[0].status.kind, ProtocolStatus::Kind::kTextQuality);
  EXPECT_EQ(b[0].status.text, "bad");
  EXPECT_EQ(b[0].receive_time, kNow);
}

TEST(MqttJson, TimestampsBySizeAndRfc3339) {
  JsonMapping m;
  auto at = [&](const std::string& ts) {
    auto b = ok(map_json("t", R"({"value":1,"timestamp":)" + ts + "}", m, kNow));
    return b.empty() || !b[0].source_time ? -1 : *b[0].source_time;
  };
  EXPECT_EQ(at("1700000000"), 1700000000000000);
  EXPECT_EQ(at("1700000000.5"), 1700000000500000);
  EXPECT_EQ(at("1700000000123"), 1700000000123000);
  EXPECT_EQ(at("1700000000123456"), 1700000000123456);
  EXPECT_EQ(at("\"2023-11-14T22:13:20Z\""), 1700000000000000);
  EXPECT_EQ(at("\"2023-11-14T23:13:20.25+01:00\""), 1700000000250000);
  EXPECT_FALSE(map_json("t", R"({"value":1,"timestamp":"yesterday"})", m, kNow).is_ok());
}

TEST(MqttJson, ArrayOfPointsWithNames) {
  JsonMapping m;
  auto b = ok(map_json("plant/line1", R"([{"name":"speed","value":3},{"name":"on","value":true},{"name":"id","value":"A7"}])", m, kNow));
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].address, "plant/line1#speed");
  EXPECT_EQ(std::get<std::int64_t>(b[0].value), 3);
  EXPECT_EQ(std::get<bool>(b[1].value), true);
  EXPECT_EQ(std::get<std::string>(b[2].value), "A7");
}

TEST(MqttJson, PlainObjectGivesOneSamplePerMember) {
  JsonMapping m;
  auto b = ok(map_json("dev/1", R"({"temp": 20.25, "rpm": 1200, "arr": [1, 2.5], "nested": {"a": 1}})", m, kNow));
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].address, "dev/1#arr");
  EXPECT_EQ(std::get<Array>(b[0].value).items.size(), 2u);
  EXPECT_EQ(b[1].address, "dev/1#nested");
  EXPECT_EQ(std::get<std::string>(b[1].value), R"({"a":1})");
  EXPECT_EQ(std::get<std::int64_t>(b[2].value), 1200);
}

TEST(MqttJson, PointersPerTag) {
  JsonMapping m;
  m.tags = {{"t0", "/sensors/0/temp"}, {"hum", "/env/h"}, {"missing", "/nope"}};
  auto b = ok(map_json("x", R"({"sensors":[{"temp": -4.5}], "env": {"h": {"value": 55, "quality": 192}}})", m, kNow));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].address, "x#t0");
  EXPECT_EQ(std::get<double>(b[0].value), -4.5);
  EXPECT_EQ(b[1].address, "x#hum");
  EXPECT_EQ(std::get<std::int64_t>(b[1].value), 55);
  EXPECT_EQ(b[1].status.text, "192");
  EXPECT_FALSE(map_json("x", R"({"other": 1})", m, kNow).is_ok());
  // a pointer into an array with a non-numeric index is a clear error, not a throw
  m.tags = {{"bad", "/sensors/x"}};
  EXPECT_FALSE(map_json("x", R"({"sensors":[1]})", m, kNow).is_ok());
}

TEST(MqttJson, LargeIntegersKeepTheirType) {
  JsonMapping m;
  auto b = ok(map_json("t", "18446744073709551615", m, kNow));
  EXPECT_EQ(std::get<std::uint64_t>(b[0].value), 18446744073709551615ull);
}

TEST(MqttJson, BadInputIsAClearError) {
  JsonMapping m;
  EXPECT_FALSE(map_json("t", "{\"value\": ", m, kNow).is_ok());                 // truncated
  EXPECT_FALSE(map_json("t", "{value: 1}", m, kNow).is_ok());                   // invalid
  EXPECT_FALSE(map_json("t", "[]", m, kNow).is_ok());                           // no values
  EXPECT_FALSE(map_json("t", "\"\xff\xfe\"", m, kNow).is_ok());                 // invalid UTF-8 string
  EXPECT_FALSE(map_json("bad\xc3", "1", m, kNow).is_ok());                      // non-UTF-8 topic
  EXPECT_FALSE(map_json("t", std::string(100000, '['), m, kNow).is_ok());       // too deep
  m.max_payload = 10;
  EXPECT_EQ(map_json("t", "[1,2,3,4,5,6]", m, kNow).status().code(), StatusCode::kResourceExhausted);
  m.max_payload = 1 << 20;
  m.max_points = 3;
  EXPECT_EQ(map_json("t", "[1,2,3,4]", m, kNow).status().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(map_json("t", R"([{"name":"a"}])", m, kNow).is_ok());             // point without value
}

TEST(MqttText, NumbersBoolsAndStrings) {
  EXPECT_EQ(std::get<std::int64_t>(ok(map_text("t", " 42\n", kNow))[0].value), 42);
  EXPECT_EQ(std::get<double>(ok(map_text("t", "-1.5e3", kNow))[0].value), -1500.0);
  EXPECT_EQ(std::get<bool>(ok(map_text("t", "true", kNow))[0].value), true);
  EXPECT_EQ(std::get<std::string>(ok(map_text("t", "RUNNING", kNow))[0].value), "RUNNING");
  EXPECT_FALSE(map_text("t", "\xff\x01", kNow).is_ok());
  EXPECT_FALSE(map_text("t\xff", "1", kNow).is_ok());
}

TEST(MqttUtf8, Validation) {
  EXPECT_TRUE(is_valid_utf8("häß€𝄞"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace uc::sources::mqtt
