#include "protocols/sparkplug/payload.h"

#include <gtest/gtest.h>

#include <cstring>

#include "sparkplug_b.pb.h"

namespace uc::protocols::sparkplug {
namespace {

using PbPayload = org::eclipse::tahu::protobuf::Payload;

std::vector<std::uint8_t> bytes_of(const PbPayload& p) {
  std::string s;
  p.SerializeToString(&s);
  return {s.begin(), s.end()};
}

Payload decode(const std::vector<std::uint8_t>& b) {
  auto r = decode_payload(b.data(), b.size());
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? *r : Payload{};
}

Value value_of(const Metric& m) {
  auto r = metric_value(m, *m.datatype);
  EXPECT_TRUE(r.is_ok()) << datatype_name(*m.datatype) << ": " << r.status().message();
  return r.is_ok() ? *r : Value{};
}

// Every scalar datatype, encoded by protoc's code, decodes to the exact value.
TEST(SparkplugPayload, ScalarsFromProtocGeneratedEncoder) {
  PbPayload p;
  p.set_timestamp(1700000000123);
  p.set_seq(7);
  auto add = [&](const char* name, std::uint32_t dt) {
    auto* m = p.add_metrics();
    m->set_name(name);
    m->set_alias(p.metrics_size());
    m->set_datatype(dt);
    m->set_timestamp(1700000000456);
    return m;
  };
  add("i8", kInt8)->set_int_value(static_cast<std::uint32_t>(-5));
  add("i16", kInt16)->set_int_value(static_cast<std::uint32_t>(-30000));
  add("i32", kInt32)->set_int_value(static_cast<std::uint32_t>(-2147483647 - 1));
  add("i64", kInt64)->set_long_value(static_cast<std::uint64_t>(-9000000000LL));
  add("u8", kUInt8)->set_int_value(255);
  add("u16", kUInt16)->set_int_value(65535);
  add("u32", kUInt32)->set_long_value(4294967295u);
  add("u64", kUInt64)->set_long_value(18446744073709551615ull);
  add("f", kFloat)->set_float_value(1.25f);
  add("d", kDouble)->set_double_value(-2.5e-300);
  add("b", kBoolean)->set_boolean_value(true);
  add("s", kString)->set_string_value("grüß");
  add("dt", kDateTime)->set_long_value(1700000000999);
  add("bytes", kBytes)->set_bytes_value(std::string("\x00\x01\xff", 3));
  add("null", kDouble)->set_is_null(true);
  const Payload d = decode(bytes_of(p));
  ASSERT_EQ(d.metrics.size(), 15u);
  EXPECT_EQ(*d.timestamp, 1700000000123u);
  EXPECT_EQ(*d.seq, 7u);
  EXPECT_EQ(*d.metrics[0].name, "i8");
  EXPECT_EQ(*d.metrics[0].alias, 1u);
  EXPECT_EQ(*d.metrics[0].timestamp, 1700000000456u);
  EXPECT_EQ(value_of(d.metrics[0]), Value(std::int64_t{-5}));
  EXPECT_EQ(value_of(d.metrics[1]), Value(std::int64_t{-30000}));
  EXPECT_EQ(value_of(d.metrics[2]), Value(std::int64_t{-2147483648LL}));
  EXPECT_EQ(value_of(d.metrics[3]), Value(std::int64_t{-9000000000LL}));
  EXPECT_EQ(value_of(d.metrics[4]), Value(std::int64_t{255}));
  EXPECT_EQ(value_of(d.metrics[5]), Value(std::int64_t{65535}));
  EXPECT_EQ(value_of(d.metrics[6]), Value(std::int64_t{4294967295LL}));
  EXPECT_EQ(value_of(d.metrics[7]), Value(std::uint64_t{18446744073709551615ull}));
  EXPECT_EQ(value_of(d.metrics[8]), Value(1.25));
  EXPECT_EQ(value_of(d.metrics[9]), Value(-2.5e-300));
  EXPECT_EQ(value_of(d.metrics[10]), Value(true));
  EXPECT_EQ(value_of(d.metrics[11]), Value(std::string("grüß")));
  EXPECT_EQ(value_of(d.metrics[12]), Value(std::int64_t{1700000000999}));
  EXPECT_EQ(value_of(d.metrics[13]), Value(Bytes{{0, 1, 255}}));
  EXPECT_EQ(value_of(d.metrics[14]), Value(std::monostate{}));
}

TEST(SparkplugPayload, UInt32InIntValueIsAcceptedToo) {
  PbPayload p;
  auto* m = p.add_metrics();
  m->set_datatype(kUInt32);
  m->set_int_value(4000000000u);
  EXPECT_EQ(value_of(decode(bytes_of(p)).metrics[0]), Value(std::int64_t{4000000000LL}));
}

// The examples of protocols.md §5.4.
TEST(SparkplugPayload, ArraysAreLittleEndian) {
  Metric m;
  m.field = ValueField::kBytes;
  auto arr = [&](std::uint32_t dt, std::vector<std::uint8_t> b) {
    m.bytes.assign(b.begin(), b.end());
    auto r = metric_value(m, dt);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? std::get<Array>(*r).items : std::vector<Scalar>{};
  };
  EXPECT_EQ(arr(kInt8Array, {0xef, 0x7b}), (std::vector<Scalar>{std::int64_t{-17}, std::int64_t{123}}));
  EXPECT_EQ(arr(kInt32Array, {0xff, 0xff, 0xff, 0xff, 0xfa, 0xaf, 0xcb, 0x12}),
            (std::vector<Scalar>{std::int64_t{-1}, std::int64_t{315338746}}));
  EXPECT_EQ(arr(kUInt16Array, {0x1e, 0x00, 0x88, 0xcc}), (std::vector<Scalar>{std::int64_t{30}, std::int64_t{52360}}));
  const auto bools = arr(kBooleanArray, {0x0c, 0, 0, 0, 0x34, 0xd0});
  const std::vector<bool> want = {false, false, true, true, false, true, false, false, true, true, false, true};
  ASSERT_EQ(bools.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(std::get<bool>(bools[i]), want[i]) << i;
  EXPECT_EQ(arr(kStringArray, {'a', 'b', 0, 0, 'c', 0}),
            (std::vector<Scalar>{std::string("ab"), std::string(), std::string("c")}));
  float f = 1.5f;
  std::uint8_t fb[4];
  std::memcpy(fb, &f, 4);  // the build host is little-endian (x86-64)
  EXPECT_EQ(arr(kFloatArray, {fb[0], fb[1], fb[2], fb[3]}), (std::vector<Scalar>{1.5}));
}

TEST(SparkplugPayload, EncoderRoundTripsEveryArrayType) {
  OutPayload p;
  p.seq = 3;
  auto add = [&](std::uint32_t dt, Array a) {
    OutMetric m;
    m.name = datatype_name(dt);
    m.datatype = dt;
    m.value_type = dt;
    m.value = std::move(a);
    p.metrics.push_back(std::move(m));
  };
  add(kInt8Array, {{std::int64_t{-128}, std::int64_t{127}}});
  add(kInt16Array, {{std::int64_t{-32768}, std::int64_t{1}}});
  add(kInt32Array, {{std::int64_t{-5}}});
  add(kInt64Array, {{std::int64_t{-9000000000LL}}});
  add(kUInt8Array, {{std::int64_t{200}}});
  add(kUInt16Array, {{std::int64_t{60000}}});
  add(kUInt32Array, {{std::int64_t{4000000000LL}}});
  add(kUInt64Array, {{std::uint64_t{18446744073709551615ull}}});
  add(kFloatArray, {{0.5, -2.0}});
  add(kDoubleArray, {{1e300}});
  add(kBooleanArray, {{true, false, true, true, true, true, true, true, false}});
  add(kStringArray, {{std::string("x"), std::string("yz")}});
  add(kDateTimeArray, {{std::int64_t{1700000000000}}});
  const auto b = encode_payload(p);
  const Payload d = decode(b);
  ASSERT_EQ(d.metrics.size(), p.metrics.size());
  for (std::size_t i = 0; i < p.metrics.size(); ++i) {
    EXPECT_EQ(value_of(d.metrics[i]), p.metrics[i].value) << *p.metrics[i].name;
  }
  // protoc's decoder agrees on the structure
  PbPayload pb;
  ASSERT_TRUE(pb.ParseFromArray(b.data(), static_cast<int>(b.size())));
  EXPECT_EQ(pb.seq(), 3u);
  EXPECT_EQ(pb.metrics(0).name(), "Int8Array");
  EXPECT_EQ(pb.metrics(0).bytes_value(), std::string("\x80\x7f", 2));
}

TEST(SparkplugPayload, DataSetBecomesJsonText) {
  PbPayload p;
  auto* m = p.add_metrics();
  m->set_name("table");
  m->set_datatype(kDataSet);
  auto* ds = m->mutable_dataset_value();
  ds->set_num_of_columns(3);
  ds->add_columns("n");
  ds->add_columns("name");
  ds->add_columns("ok");
  ds->add_types(kInt32);
  ds->add_types(kString);
  ds->add_types(kBoolean);
  auto* row = ds->add_rows();
  row->add_elements()->set_int_value(static_cast<std::uint32_t>(-3));
  row->add_elements()->set_string_value("a\"b");
  row->add_elements()->set_boolean_value(true);
  EXPECT_EQ(value_of(decode(bytes_of(p)).metrics[0]),
            Value(std::string(R"({"columns":["n","name","ok"],"types":["Int32","String","Boolean"],"rows":[[-3,"a\"b",true]]})")));
}

TEST(SparkplugPayload, QualityProperty) {
  PbPayload p;
  auto* m = p.add_metrics();
  m->set_datatype(kDouble);
  m->set_double_value(1);
  auto* props = m->mutable_properties();
  props->add_keys("engUnit");
  props->add_values()->set_string_value("C");
  props->add_keys("Quality");
  props->add_values()->set_int_value(500);
  EXPECT_EQ(*decode(bytes_of(p)).metrics[0].quality, 500);
}

TEST(SparkplugPayload, WrongValueFieldOrRangeIsAnError) {
  Metric m;
  m.field = ValueField::kString;
  m.bytes = "x";
  EXPECT_FALSE(metric_value(m, kDouble).is_ok());
  EXPECT_FALSE(metric_value(m, kInt32).is_ok());
  m.field = ValueField::kInt;
  m.int_bits = 256;
  EXPECT_EQ(metric_value(m, kUInt8).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(metric_value(m, kInt8).status().code(), StatusCode::kOutOfRange);
  m.field = ValueField::kString;
  m.bytes = "\xff";
  EXPECT_FALSE(metric_value(m, kString).is_ok());
  m.field = ValueField::kBytes;
  m.bytes = std::string(3, '\0');
  EXPECT_FALSE(metric_value(m, kInt16Array).is_ok());    // odd length
  m.bytes = std::string("\x20\0\0\0\xff", 5);
  EXPECT_FALSE(metric_value(m, kBooleanArray).is_ok());  // count 32 but 1 byte of bits
  m.bytes = "ab";
  EXPECT_FALSE(metric_value(m, kStringArray).is_ok());   // no NUL
  EXPECT_FALSE(metric_value(m, kTemplate).is_ok());
}

TEST(SparkplugPayload, HugeArraysHitTheLimit) {
  Metric m;
  m.field = ValueField::kBytes;
  m.bytes.assign(8 * 1000, '\0');
  Limits small;
  small.max_array_items = 999;
  EXPECT_EQ(metric_value(m, kDoubleArray, small).status().code(), StatusCode::kResourceExhausted);
  m.bytes = std::string("\xff\xff\xff\xff", 4);  // claims 4 billion booleans
  EXPECT_EQ(metric_value(m, kBooleanArray).status().code(), StatusCode::kResourceExhausted);
}

TEST(SparkplugPayload, GarbageAndTruncationAreErrors) {
  PbPayload p;
  p.set_seq(1);
  auto* m = p.add_metrics();
  m->set_name("a");
  m->set_datatype(kString);
  m->set_string_value("hello world");
  const auto b = bytes_of(p);
  for (std::size_t cut = 1; cut < b.size(); ++cut) {
    auto r = decode_payload(b.data(), cut);
    if (r.is_ok()) {
      // a cut on a field boundary is a valid shorter message; it must not invent data
      EXPECT_LE(r->metrics.size(), 1u);
    }
  }
  const std::vector<std::uint8_t> garbage = {0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2};
  EXPECT_FALSE(decode_payload(garbage.data(), garbage.size()).is_ok());
  const std::vector<std::uint8_t> group = {0x0b, 0x0c};  // wire type 3
  EXPECT_FALSE(decode_payload(group.data(), group.size()).is_ok());
  const std::vector<std::uint8_t> long_varint(12, 0xff);
  EXPECT_FALSE(decode_payload(long_varint.data(), long_varint.size()).is_ok());
  const std::vector<std::uint8_t> field0 = {0x00, 0x01};
  EXPECT_FALSE(decode_payload(field0.data(), field0.size()).is_ok());
  Limits few;
  few.max_metrics = 2;
  PbPayload many;
  for (int i = 0; i < 3; ++i) many.add_metrics()->set_alias(i);
  const auto mb = bytes_of(many);
  EXPECT_EQ(decode_payload(mb.data(), mb.size(), few).status().code(), StatusCode::kResourceExhausted);
}

TEST(SparkplugPayload, RandomBytesNeverCrash) {
  std::uint32_t x = 99;
  for (int round = 0; round < 5000; ++round) {
    std::vector<std::uint8_t> b(static_cast<std::size_t>(round % 97));
    for (auto& c : b) {
      x = x * 1664525 + 1013904223;
      c = static_cast<std::uint8_t>(x >> 24);
    }
    auto r = decode_payload(b.data(), b.size());
    if (r.is_ok()) {
      for (const auto& m : r->metrics) (void)metric_value(m, m.datatype.value_or(x % 40));
    }
  }
}

}  // namespace
}  // namespace uc::protocols::sparkplug
