#include "normalize/quality.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace uc::normalize {
namespace {

using Kind = ProtocolStatus::Kind;
namespace s = opcua_status;

struct QualityCase {
  std::string label;
  ProtocolStatus status;
  Quality want_quality;
  std::int64_t want_code;
  std::string want_reason;  // "*" = any non-empty reason
};

ProtocolStatus st(Kind kind, std::uint32_t code = 0, std::string text = "") {
  ProtocolStatus p;
  p.kind = kind;
  p.code = code;
  p.text = std::move(text);
  return p;
}

class QualityTable : public ::testing::TestWithParam<QualityCase> {};

TEST_P(QualityTable, Maps) {
  const auto& c = GetParam();
  const QualityResult r = map_quality(c.status);
  EXPECT_EQ(r.quality, c.want_quality) << c.label;
  EXPECT_EQ(r.status_code, c.want_code) << c.label;
  if (c.want_reason == "*") {
    EXPECT_FALSE(r.reason.empty()) << c.label;
  } else {
    EXPECT_EQ(r.reason, c.want_reason) << c.label;
  }
  if (r.quality == Quality::kGood) {
    EXPECT_TRUE(r.reason.empty()) << c.label;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, QualityTable,
    ::testing::Values(
        QualityCase{"none", ProtocolStatus::none(), Quality::kGood, 0, ""},
        // OPC UA severity bits at every boundary; the raw code is kept as an unsigned value.
        QualityCase{"ua 0", st(Kind::kOpcUa, 0x00000000), Quality::kGood, 0, ""},
        QualityCase{"ua 3FFFFFFF", st(Kind::kOpcUa, 0x3FFFFFFF), Quality::kGood, 0x3FFFFFFF, ""},
        QualityCase{"ua 40000000", st(Kind::kOpcUa, 0x40000000), Quality::kUncertain, 0x40000000,
                    "Uncertain (0x40000000)"},
        QualityCase{"ua 7FFFFFFF", st(Kind::kOpcUa, 0x7FFFFFFF), Quality::kUncertain, 0x7FFFFFFF,
                    "opc ua status 0x7FFFFFFF"},
        QualityCase{"ua 80000000", st(Kind::kOpcUa, 0x80000000), Quality::kBad, 0x80000000LL, "Bad (0x80000000)"},
        QualityCase{"ua FFFFFFFF", st(Kind::kOpcUa, 0xFFFFFFFF), Quality::kBad, 0xFFFFFFFFLL,
                    "opc ua status 0xFFFFFFFF"},
        QualityCase{"ua C0000000", st(Kind::kOpcUa, 0xC0000000), Quality::kBad, 0xC0000000LL, "*"},
        QualityCase{"ua BadNodeIdUnknown", st(Kind::kOpcUa, 0x80340000), Quality::kBad, 0x80340000LL,
                    "BadNodeIdUnknown (0x80340000)"},
        QualityCase{"ua with text", st(Kind::kOpcUa, 0x808B0000, "plc says no"), Quality::kBad, 0x808B0000LL,
                    "plc says no"},
        QualityCase{"ua GoodClamped", st(Kind::kOpcUa, 0x00300000), Quality::kGood, 0x00300000, ""},
        // Modbus exceptions.
        QualityCase{"mb 1", st(Kind::kModbusException, 1), Quality::kBad, s::kBadNotSupported,
                    "modbus exception 1 (illegal function)"},
        QualityCase{"mb 2", st(Kind::kModbusException, 2), Quality::kBad, s::kBadConfigurationError,
                    "modbus exception 2 (illegal data address)"},
        QualityCase{"mb 3", st(Kind::kModbusException, 3), Quality::kBad, s::kBadOutOfRange,
                    "modbus exception 3 (illegal data value)"},
        QualityCase{"mb 4", st(Kind::kModbusException, 4), Quality::kBad, s::kBadDeviceFailure,
                    "modbus exception 4 (server device failure)"},
        QualityCase{"mb 5", st(Kind::kModbusException, 5), Quality::kBad, s::kBadDeviceFailure,
                    "modbus exception 5 (acknowledge)"},
        QualityCase{"mb 6", st(Kind::kModbusException, 6), Quality::kBad, s::kBadDeviceFailure,
                    "modbus exception 6 (server device busy)"},
        QualityCase{"mb 8", st(Kind::kModbusException, 8), Quality::kBad, s::kBadDeviceFailure,
                    "modbus exception 8 (memory parity error)"},
        QualityCase{"mb 10", st(Kind::kModbusException, 10), Quality::kBad, s::kBadNoCommunication,
                    "modbus exception 10 (gateway path unavailable)"},
        QualityCase{"mb 11", st(Kind::kModbusException, 11), Quality::kBad, s::kBadTimeout,
                    "modbus exception 11 (gateway target device failed to respond)"},
        QualityCase{"mb 99", st(Kind::kModbusException, 99), Quality::kBad, s::kBadDeviceFailure,
                    "modbus exception 99 (unknown)"},
        QualityCase{"mb 2 text", st(Kind::kModbusException, 2, "register 40001"), Quality::kBad,
                    s::kBadConfigurationError, "modbus exception 2 (illegal data address): register 40001"},
        // Transport.
        QualityCase{"timeout", st(Kind::kTimeout), Quality::kBad, s::kBadTimeout, "timeout"},
        QualityCase{"timeout text", st(Kind::kTimeout, 0, "no answer in 1000 ms"), Quality::kBad, s::kBadTimeout,
                    "no answer in 1000 ms"},
        QualityCase{"comm", st(Kind::kCommError), Quality::kBad, s::kBadCommunicationError, "communication error"},
        QualityCase{"comm text", st(Kind::kCommError, 0, "connection reset"), Quality::kBad,
                    s::kBadCommunicationError, "connection reset"},
        // Sparkplug.
        QualityCase{"spb null", st(Kind::kSparkplugNull), Quality::kBad, s::kBadNoData, "sparkplug metric is_null"},
        QualityCase{"stale", st(Kind::kStale), Quality::kBad, s::kBadNoCommunication, "stale"},
        QualityCase{"stale text", st(Kind::kStale, 0, "DDEATH"), Quality::kBad, s::kBadNoCommunication, "DDEATH"},
        QualityCase{"spq 192", st(Kind::kSparkplugQuality, 192), Quality::kGood, s::kGood, ""},
        QualityCase{"spq 255", st(Kind::kSparkplugQuality, 255), Quality::kGood, s::kGood, ""},
        QualityCase{"spq 216", st(Kind::kSparkplugQuality, 216), Quality::kGood, s::kGoodLocalOverride, ""},
        QualityCase{"spq 64", st(Kind::kSparkplugQuality, 64), Quality::kUncertain, s::kUncertain,
                    "opc da quality 64"},
        QualityCase{"spq 68", st(Kind::kSparkplugQuality, 68), Quality::kUncertain, s::kUncertainLastUsableValue,
                    "opc da quality 68"},
        QualityCase{"spq 84", st(Kind::kSparkplugQuality, 84), Quality::kUncertain,
                    s::kUncertainEngineeringUnitsExceeded, "*"},
        QualityCase{"spq 127", st(Kind::kSparkplugQuality, 127), Quality::kUncertain, s::kUncertain, "*"},
        QualityCase{"spq 0", st(Kind::kSparkplugQuality, 0), Quality::kBad, s::kBad, "opc da quality 0"},
        QualityCase{"spq 8", st(Kind::kSparkplugQuality, 8), Quality::kBad, s::kBadNotConnected, "*"},
        QualityCase{"spq 12", st(Kind::kSparkplugQuality, 12), Quality::kBad, s::kBadDeviceFailure, "*"},
        QualityCase{"spq 24", st(Kind::kSparkplugQuality, 24), Quality::kBad, s::kBadNoCommunication, "*"},
        QualityCase{"spq 28", st(Kind::kSparkplugQuality, 28), Quality::kBad, s::kBadOutOfService, "*"},
        QualityCase{"spq 63", st(Kind::kSparkplugQuality, 63), Quality::kBad, s::kBad, "*"},
        QualityCase{"spq 128", st(Kind::kSparkplugQuality, 128), Quality::kBad, s::kBad, "*"},
        QualityCase{"spq 191", st(Kind::kSparkplugQuality, 191), Quality::kBad, s::kBad, "*"},
        QualityCase{"spq 500", st(Kind::kSparkplugQuality, 500), Quality::kUncertain, s::kUncertain,
                    "unrecognised quality 500"},
        QualityCase{"spq ua bad", st(Kind::kSparkplugQuality, 0x80000000), Quality::kBad, 0x80000000LL, "*"},
        QualityCase{"spq bad text", st(Kind::kSparkplugQuality, 0, "Bad_Stale"), Quality::kBad, s::kBad,
                    "Bad_Stale"},
        // Text quality.
        QualityCase{"text good", st(Kind::kTextQuality, 0, "good"), Quality::kGood, 0, ""},
        QualityCase{"text GOOD", st(Kind::kTextQuality, 0, " GOOD "), Quality::kGood, 0, ""},
        QualityCase{"text ok", st(Kind::kTextQuality, 0, "Ok"), Quality::kGood, 0, ""},
        QualityCase{"text uncertain", st(Kind::kTextQuality, 0, "Uncertain"), Quality::kUncertain, s::kUncertain,
                    "*"},
        QualityCase{"text bad", st(Kind::kTextQuality, 0, "BAD"), Quality::kBad, s::kBad, "quality BAD"},
        QualityCase{"text error", st(Kind::kTextQuality, 0, "error"), Quality::kBad, s::kBad, "quality error"},
        QualityCase{"text 192", st(Kind::kTextQuality, 0, "192"), Quality::kGood, 0, ""},
        QualityCase{"text 0", st(Kind::kTextQuality, 0, "0"), Quality::kBad, s::kBad, "*"},
        QualityCase{"text 64", st(Kind::kTextQuality, 0, "64"), Quality::kUncertain, s::kUncertain, "*"},
        QualityCase{"text ua hex", st(Kind::kTextQuality, 0, "0x80340000"), Quality::kBad, 0x80340000LL,
                    "BadNodeIdUnknown (0x80340000)"},
        QualityCase{"text ua dec", st(Kind::kTextQuality, 0, "2147483648"), Quality::kBad, 0x80000000LL, "*"},
        QualityCase{"text ua good", st(Kind::kTextQuality, 0, "3145728"), Quality::kGood, 0x00300000, ""},
        QualityCase{"text too big", st(Kind::kTextQuality, 0, "99999999999"), Quality::kUncertain, s::kUncertain,
                    "unrecognised quality 99999999999"},
        QualityCase{"text junk", st(Kind::kTextQuality, 0, "meh"), Quality::kUncertain, s::kUncertain,
                    "unrecognised quality 'meh'"},
        QualityCase{"text empty", st(Kind::kTextQuality, 0, ""), Quality::kUncertain, s::kUncertain,
                    "unrecognised quality ''"},
        QualityCase{"text negative", st(Kind::kTextQuality, 0, "-1"), Quality::kUncertain, s::kUncertain, "*"}),
    [](const ::testing::TestParamInfo<QualityCase>& param_info) {
      std::string n;
      for (char c : param_info.param.label) n.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
      return n;
    });

TEST(Quality, StatusConstantsMatchStatusCodeCsv) {
  // Values copied from opcua-schema/StatusCode.csv.
  EXPECT_EQ(s::kUncertainEngineeringUnitsExceeded, 0x40940000U);
  EXPECT_EQ(s::kBadDeviceFailure, 0x808B0000U);
  EXPECT_EQ(s::kBadTimeout, 0x800A0000U);
  EXPECT_EQ(s::kBadCommunicationError, 0x80050000U);
  EXPECT_EQ(s::kBadNoData, 0x809B0000U);
  EXPECT_EQ(s::kBadNoCommunication, 0x80310000U);
}

TEST(Quality, Severity) {
  EXPECT_EQ(opcua_severity(0), Quality::kGood);
  EXPECT_EQ(opcua_severity(0x3FFFFFFF), Quality::kGood);
  EXPECT_EQ(opcua_severity(0x40000000), Quality::kUncertain);
  EXPECT_EQ(opcua_severity(0x7FFFFFFF), Quality::kUncertain);
  EXPECT_EQ(opcua_severity(0x80000000), Quality::kBad);
  EXPECT_EQ(opcua_severity(0xBFFFFFFF), Quality::kBad);
  EXPECT_EQ(opcua_severity(0xC0000000), Quality::kBad);
  EXPECT_EQ(opcua_severity(0xFFFFFFFF), Quality::kBad);
}

TEST(Quality, EveryDaByteHasTheSeverityOfItsTopBits) {
  for (std::uint32_t b = 0; b < 256; ++b) {
    const QualityResult r = map_numeric_quality(b);
    const Quality want = b >= 192 ? Quality::kGood : (b >= 64 && b < 128) ? Quality::kUncertain : Quality::kBad;
    EXPECT_EQ(r.quality, want) << b;
    EXPECT_EQ(opcua_severity(static_cast<std::uint32_t>(r.status_code)), want) << b;
  }
}

}  // namespace
}  // namespace uc::normalize
