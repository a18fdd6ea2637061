#include "simulator/modbus/register_map.h"

#include <gtest/gtest.h>

#include <span>

#include "protocols/modbus/codec.h"

namespace uc::simulator::modbus {
namespace {

using protocols::modbus::kAllOrders;

// Every field of both blocks, read back in its own order with the codec, equals the
// documented value: the map and docs/simulator-modbus.md describe the same thing.
TEST(SimulatorRegisterMap, EveryFieldDecodesToItsDocumentedValue) {
  for (const std::uint64_t n : {0ULL, 1ULL, 37ULL, 100000ULL}) {
    const auto regs = registers_at(n);
    for (std::size_t k = 0; k < 4; ++k) {
      for (const Field& f : block_fields()) {
        const int width = protocols::modbus::register_width(f.type, f.length);
        const auto s = std::span<const std::uint16_t>(regs).subspan(
            static_cast<std::size_t>(kStaticBase + static_cast<int>(k) * kBlockSize + f.offset),
            static_cast<std::size_t>(width));
        EXPECT_EQ(*protocols::modbus::decode_registers(f.type, kAllOrders[k], s, f.length),
                  static_value(f, kAllOrders[k]));
        const auto d = std::span<const std::uint16_t>(regs).subspan(
            static_cast<std::size_t>(kDynamicBase + static_cast<int>(k) * kBlockSize + f.offset),
            static_cast<std::size_t>(width));
        EXPECT_EQ(*protocols::modbus::decode_registers(f.type, kAllOrders[k], d, f.length), dynamic_value(f, n));
      }
    }
  }
}

TEST(SimulatorRegisterMap, KnownWordsAndChangingValues) {
  const auto regs = registers_at(5);
  EXPECT_EQ(regs[6], 0x47F1);   // float32 123456.0 ABCD
  EXPECT_EQ(regs[7], 0x2000);
  EXPECT_EQ(regs[31], 0x2000);  // CDAB
  EXPECT_EQ(regs[32], 0x47F1);
  EXPECT_EQ(regs[56], 0xF147);  // BADC
  EXPECT_EQ(regs[81], 0x0020);  // DCBA
  EXPECT_EQ(regs[200], 205);    // ramp
  EXPECT_EQ(regs[9999], (9999 + 5) & 0xFFFF);
  EXPECT_NE(registers_at(6)[101], regs[101]);  // uint16 counter moves
  const auto bits = bits_at(3);
  EXPECT_EQ(bits[0], 1);
  EXPECT_EQ(bits[1], 0);
  EXPECT_EQ(bits[8], 1);
  EXPECT_EQ(bits_at(4)[8], 0);
  EXPECT_EQ(dynamic_value(block_fields()[8], 16), Value(std::string("STARTING")));
}

}  // namespace
}  // namespace uc::simulator::modbus
