// GCC 12 reports false -Wnull-dereference inside std::variant when vectors of OPC UA
// Variant values relocate (libstdc++ inlining).
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <gtest/gtest.h>

#include "sources/opcua/tags.h"
#include "sources/opcua/values.h"

namespace uc::sources::opcua {
namespace {

namespace ua = uc::opcua;

TEST(OpcuaSourceValue, ScalarsMapToTheNeutralValue) {
  EXPECT_EQ(to_value(ua::Variant::scalar(true)), Value(true));
  EXPECT_EQ(to_value(ua::Variant::scalar(std::int8_t{-5})), Value(std::int64_t{-5}));
  EXPECT_EQ(to_value(ua::Variant::scalar(std::uint8_t{200})), Value(std::uint64_t{200}));
  EXPECT_EQ(to_value(ua::Variant::scalar(std::numeric_limits<std::int64_t>::min())),
            Value(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(to_value(ua::Variant::scalar(std::numeric_limits<std::uint64_t>::max())),
            Value(std::numeric_limits<std::uint64_t>::max()));
  EXPECT_EQ(to_value(ua::Variant::scalar(3.5f)), Value(3.5));
  EXPECT_EQ(to_value(ua::Variant::scalar(ua::String("x"))), Value(std::string("x")));
  EXPECT_EQ(to_value(ua::Variant::scalar(ua::datetime_from_unix_us(1'683'356'889'123'000))),
            Value(std::string("2023-05-06T07:08:09.123Z")));
  EXPECT_EQ(to_value(ua::Variant::scalar(ua::datetime_from_unix_us(-1))), Value(std::string("1969-12-31T23:59:59.999999Z")));
  EXPECT_EQ(to_value(ua::Variant::scalar(ua::ByteString{std::string("\x00\xff", 2)})), Value(Bytes{{0, 255}}));
  EXPECT_EQ(to_value(ua::Variant::scalar(ua::NodeId(2, std::string("a")))), Value(std::string("ns=2;s=a")));
  EXPECT_EQ(to_value(ua::Variant::scalar(ua::StatusCode{0x80340000})), Value(std::uint64_t{0x80340000}));
  EXPECT_EQ(to_value(ua::Variant()), Value());
  EXPECT_EQ(to_value(ua::Variant::scalar(ua::ExtensionObject{})), Value());
}

TEST(OpcuaSourceValue, ArraysAndMatricesFlatten) {
  Value v = to_value(ua::Variant::array(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}));
  ASSERT_EQ(kind_of(v), ValueKind::kArray);
  EXPECT_EQ(std::get<Array>(v).items.size(), 6u);
  EXPECT_EQ(std::get<Array>(v).items[5], Scalar(6.0));
  EXPECT_EQ(to_value(ua::Variant::array(std::vector<std::int32_t>{})), Value(Array{}));
}

}  // namespace
}  // namespace uc::sources::opcua
