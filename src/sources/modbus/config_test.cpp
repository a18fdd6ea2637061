// The Modbus option keys added with the source runtime (the rest are in
// config/protocols_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/test_support.h"
#include "sources/modbus/config.h"

namespace uc::sources::modbus {
namespace {

using ::testing::ElementsAre;

constexpr const char* kHead = "connector: {name: t}\nsources:\n  - name: m\n    protocol: modbus\n"
                              "    endpoint: modbus://127.0.0.1:5020\n";

std::vector<std::string> errors_of(const std::string& rest) { return config::testing::errors_of(kHead + rest); }

std::shared_ptr<const Options> options_of(const std::string& rest) {
  return config::testing::first_source_options<Options>(kHead + rest);
}

TEST(ModbusOptions, DefaultsAndGroupIntervals) {
  const auto o = options_of("    poll_interval_ms: 250\n    registers:\n"
                            "      - {name: a, table: holding, address: 0}\n"
                            "      - {name: b, table: holding, address: 1, poll_interval_ms: 5000}\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->max_gap, 10);
  EXPECT_EQ(o->max_registers_per_request, 125);
  EXPECT_EQ(o->max_bits_per_request, 2000);
  EXPECT_EQ(o->registers[0].poll_interval_ms, 250);
  EXPECT_EQ(o->registers[1].poll_interval_ms, 5000);
}

TEST(ModbusOptions, LimitsAreChecked) {
  EXPECT_THAT(errors_of("    max_registers_per_request: 126\n    max_bits_per_request: 0\n    max_gap: -1\n"),
              ElementsAre("c.yaml:6:32: sources[0].max_registers_per_request: must be between 1 and 125, got 126",
                          "c.yaml:7:27: sources[0].max_bits_per_request: must be between 1 and 2000, got 0",
                          "c.yaml:8:14: sources[0].max_gap: must be between 0 and 2000, got -1"));
  EXPECT_THAT(errors_of("    backoff_initial_ms: 2000\n    backoff_max_ms: 1000\n"),
              ElementsAre("c.yaml:7:21: sources[0].backoff_max_ms: must not be less than backoff_initial_ms (2000)"));
  EXPECT_THAT(errors_of("    max_registers_per_request: 2\n    registers:\n"
                        "      - {name: a, table: holding, address: 0, type: float64}\n"),
              ElementsAre("c.yaml:8:9: sources[0].registers[0]: register \"a\" spans 4 registers, more than "
                          "max_registers_per_request (2)"));
  EXPECT_THAT(errors_of("    registers:\n      - {name: a, table: holding, address: 0, poll_interval_ms: 1}\n"),
              ElementsAre("c.yaml:7:65: sources[0].registers[0].poll_interval_ms: must be between 10 and 86400000, "
                          "got 1"));
}

TEST(ModbusOptions, BadInputIsOneClearErrorEach) {
  EXPECT_THAT(errors_of("    registers:\n"
                        "      - {name: a, table: coil, address: 0, type: float32}\n"
                        "      - {name: b, table: holding, address: 0, type: string, length: 0}\n"
                        "      - {name: c, table: holding, address: -1}\n"
                        "      - {name: d, table: holding, address: 10, type: float64}\n"
                        "      - {name: e, table: holding, address: 12}\n"
                        "      - {name: f, table: holding, address: 20, byte_order: XYZW}\n"
                        "      - {name: g, table: holding, address: 30, type: int128}\n"),
              ElementsAre("c.yaml:7:50: sources[0].registers[0].type: type float32 is not allowed in table coil; "
                          "coils and discrete inputs hold single bits (type bool)",
                          "c.yaml:8:69: sources[0].registers[1].length: must be between 1 and 250, got 0",
                          "c.yaml:9:44: sources[0].registers[2].address: must be between 0 and 65535, got -1",
                          "c.yaml:11:9: sources[0].registers[4]: register \"e\" (holding 12..12) overlaps register "
                          "\"d\" (holding 10..13) on unit 1",
                          "c.yaml:12:60: sources[0].registers[5].byte_order: expected one of ABCD | CDAB | BADC | "
                          "DCBA, got \"XYZW\"",
                          "c.yaml:13:54: sources[0].registers[6].type: expected one of bool | int16 | uint16 | int32 "
                          "| uint32 | int64 | uint64 | float32 | float64 | string, got \"int128\""));
}

}  // namespace
}  // namespace uc::sources::modbus
