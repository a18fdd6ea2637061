// Known byte patterns in all four orders for every type (research/protocols.md §7.2:
// 123456.0f = 0x47F12000 and 0x0102030405060708 as checked against pymodbus and
// libmodbus's getters), decoded and encoded both ways.
#include "protocols/modbus/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace uc::protocols::modbus {
namespace {

using Regs = std::vector<std::uint16_t>;

struct Case {
  DataType type;
  int length;
  Value value;
  Regs abcd, cdab, badc, dcba;
};

std::vector<Case> cases() {
  return {
      {DataType::kInt16, 0, Value(std::int64_t{-12345}), {0xCFC7}, {0xCFC7}, {0xC7CF}, {0xC7CF}},
      {DataType::kUint16, 0, Value(std::uint64_t{0x1234}), {0x1234}, {0x1234}, {0x3412}, {0x3412}},
      {DataType::kInt32, 0, Value(std::int64_t{-2023406815}),  // 0x87654321
       {0x8765, 0x4321}, {0x4321, 0x8765}, {0x6587, 0x2143}, {0x2143, 0x6587}},
      {DataType::kUint32, 0, Value(std::uint64_t{0x01020304}),
       {0x0102, 0x0304}, {0x0304, 0x0102}, {0x0201, 0x0403}, {0x0403, 0x0201}},
      {DataType::kFloat32, 0, Value(123456.0),  // 0x47F12000
       {0x47F1, 0x2000}, {0x2000, 0x47F1}, {0xF147, 0x0020}, {0x0020, 0xF147}},
      {DataType::kInt64, 0, Value(std::int64_t{-81985529216486896}),  // 0xFEDCBA9876543210
       {0xFEDC, 0xBA98, 0x7654, 0x3210}, {0x3210, 0x7654, 0xBA98, 0xFEDC},
       {0xDCFE, 0x98BA, 0x5476, 0x1032}, {0x1032, 0x5476, 0x98BA, 0xDCFE}},
      {DataType::kUint64, 0, Value(std::uint64_t{0x0102030405060708}),
       {0x0102, 0x0304, 0x0506, 0x0708}, {0x0708, 0x0506, 0x0304, 0x0102},
       {0x0201, 0x0403, 0x0605, 0x0807}, {0x0807, 0x0605, 0x0403, 0x0201}},
      {DataType::kFloat64, 0, Value(123456.789),  // 0x40FE240C9FBE76C9
       {0x40FE, 0x240C, 0x9FBE, 0x76C9}, {0x76C9, 0x9FBE, 0x240C, 0x40FE},
       {0xFE40, 0x0C24, 0xBE9F, 0xC976}, {0xC976, 0xBE9F, 0x0C24, 0xFE40}},
      {DataType::kString, 3, Value(std::string("ABC")), {0x4142, 0x4300}, {0x4142, 0x4300}, {0x4241, 0x0043},
       {0x4241, 0x0043}},
      {DataType::kString, 4, Value(std::string("Pump")), {0x5075, 0x6D70}, {0x5075, 0x6D70}, {0x7550, 0x706D},
       {0x7550, 0x706D}},
      {DataType::kBool, 0, Value(true), {0x0001}, {0x0001}, {0x0001}, {0x0001}},
      {DataType::kBool, 0, Value(false), {0x0000}, {0x0000}, {0x0000}, {0x0000}},
  };
}

const Regs& regs_for(const Case& c, ByteOrder o) {
  switch (o) {
    case ByteOrder::kABCD: return c.abcd;
    case ByteOrder::kCDAB: return c.cdab;
    case ByteOrder::kBADC: return c.badc;
    case ByteOrder::kDCBA: return c.dcba;
  }
  return c.abcd;
}

TEST(ModbusCodec, EveryTypeInEveryOrderDecodesAndEncodes) {
  for (const Case& c : cases()) {
    for (const ByteOrder o : kAllOrders) {
      SCOPED_TRACE(std::string(to_string(c.type)) + " " + to_string(o));
      const Regs& regs = regs_for(c, o);
      auto decoded = decode_registers(c.type, o, regs, c.length);
      ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
      EXPECT_EQ(*decoded, c.value);
      auto encoded = encode_registers(c.type, o, c.value, c.length);
      ASSERT_TRUE(encoded.is_ok()) << encoded.status().to_string();
      EXPECT_EQ(*encoded, regs);
    }
  }
}

TEST(ModbusCodec, WrongRegisterCountIsAnError) {
  const Regs one{0x1234};
  auto r = decode_registers(DataType::kFloat32, ByteOrder::kABCD, one);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "float32 needs 2 registers, got 1");
  EXPECT_FALSE(decode_registers(DataType::kString, ByteOrder::kABCD, one, 4).is_ok());
}

TEST(ModbusCodec, StringsStopAtNulAndReplaceNonPrintable) {
  const Regs regs{0x4100, 0x4242};  // "A", NUL, "BB"
  EXPECT_EQ(*decode_registers(DataType::kString, ByteOrder::kABCD, regs, 4), Value(std::string("A")));
  const Regs odd{0x41FF, 0x0A42};
  EXPECT_EQ(*decode_registers(DataType::kString, ByteOrder::kABCD, odd, 4), Value(std::string("A??B")));
  // Encoding pads with NUL and cuts at length.
  EXPECT_EQ(*encode_registers(DataType::kString, ByteOrder::kABCD, Value(std::string("XYZW")), 3),
            (Regs{0x5859, 0x5A00}));
  EXPECT_EQ(*encode_registers(DataType::kString, ByteOrder::kABCD, Value(std::string("X")), 4), (Regs{0x5800, 0x0000}));
}

TEST(ModbusCodec, FloatSpecialValues) {
  const Regs nan{0x7FC0, 0x0000};
  EXPECT_TRUE(std::isnan(std::get<double>(*decode_registers(DataType::kFloat32, ByteOrder::kABCD, nan))));
  const Regs inf{0x0000, 0x7F80};
  EXPECT_EQ(std::get<double>(*decode_registers(DataType::kFloat32, ByteOrder::kCDAB, inf)),
            std::numeric_limits<double>::infinity());
  // 1e300 does not fit a float: saturates instead of undefined behaviour.
  EXPECT_EQ(*encode_registers(DataType::kFloat32, ByteOrder::kABCD, Value(1e300)), (Regs{0x7F80, 0x0000}));
  // float32 decodes to the exact double of the float.
  const Regs pi{0x4049, 0x0FDB};
  EXPECT_EQ(std::get<double>(*decode_registers(DataType::kFloat32, ByteOrder::kABCD, pi)),
            static_cast<double>(3.14159274101257324f));
}

TEST(ModbusCodec, IntegerEncodingTruncatesToWidth) {
  EXPECT_EQ(*encode_registers(DataType::kUint16, ByteOrder::kABCD, Value(std::int64_t{-1})), (Regs{0xFFFF}));
  EXPECT_EQ(*encode_registers(DataType::kInt32, ByteOrder::kABCD, Value(-2.0)), (Regs{0xFFFF, 0xFFFE}));
  EXPECT_EQ(*encode_registers(DataType::kBool, ByteOrder::kABCD, Value(std::int64_t{7})), (Regs{0x0001}));
  EXPECT_FALSE(encode_registers(DataType::kInt16, ByteOrder::kABCD, Value(std::string("x"))).is_ok());
  EXPECT_FALSE(encode_registers(DataType::kString, ByteOrder::kABCD, Value(1.0), 2).is_ok());
}

TEST(ModbusCodec, ScaleAndOffset) {
  EXPECT_EQ(apply_scale(Value(std::int64_t{-5}), 1.0, 0.0), Value(std::int64_t{-5}));
  EXPECT_EQ(apply_scale(Value(std::uint64_t{250}), 0.1, -10.0), Value(250 * 0.1 - 10.0));
  EXPECT_EQ(apply_scale(Value(2.5), 2.0, 1.0), Value(6.0));
  EXPECT_EQ(apply_scale(Value(true), 2.0, 1.0), Value(true));
  EXPECT_EQ(apply_scale(Value(std::string("s")), 2.0, 1.0), Value(std::string("s")));
}

TEST(ModbusCodec, NamesAndWidths) {
  EXPECT_EQ(parse_byte_order("CDAB"), ByteOrder::kCDAB);
  EXPECT_FALSE(parse_byte_order("abcd").has_value());
  EXPECT_EQ(register_width(DataType::kString, 5), 3);
  EXPECT_EQ(register_width(DataType::kFloat64, 0), 4);
  EXPECT_EQ(read_function_code(Table::kInput), 4);
  EXPECT_STREQ(exception_name(2), "ILLEGAL DATA ADDRESS");
  EXPECT_STREQ(exception_name(99), "UNKNOWN");
}

}  // namespace
}  // namespace uc::protocols::modbus
