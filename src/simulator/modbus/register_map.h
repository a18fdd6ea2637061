// The Modbus simulator's register map (documented in docs/simulator-modbus.md): every
// value type in every word order, one static block of known values and one block that
// changes every second, plus a ramp area for load tests. Pure: the contents at second
// n are a function of n.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/value.h"
#include "protocols/modbus/types.h"

namespace uc::simulator::modbus {

using protocols::modbus::ByteOrder;
using protocols::modbus::DataType;

inline constexpr int kRegisterCount = 10000;  // holding and input registers 0..9999
inline constexpr int kBitCount = 2000;        // coils and discrete inputs 0..1999
inline constexpr int kStaticBase = 0;         // + 25 * order index
inline constexpr int kDynamicBase = 100;      // + 25 * order index
inline constexpr int kBlockSize = 25;
inline constexpr int kRampBase = 200;         // registers 200..9999: (address + n) mod 65536

// One value of a block, at its offset inside the block.
struct Field {
  int offset;
  DataType type;
  int length;  // string characters
  const char* name;
};
// int16 +0, uint16 +1, int32 +2, uint32 +4, float32 +6, int64 +8, uint64 +12,
// float64 +16, string(10) +20.
const std::vector<Field>& block_fields();

// The value of a field of the static block in the given order (the same for every
// second; the string is "ORDER-ABCD" etc.).
Value static_value(const Field& f, ByteOrder order);
// The value of a field of the dynamic block at second n.
Value dynamic_value(const Field& f, std::uint64_t n);

// Holding registers at second n (input registers hold the same).
std::vector<std::uint16_t> registers_at(std::uint64_t n);
// Coils at second n (discrete inputs hold the same): 0..7 = 1,0,1,1,0,0,1,0;
// 8 toggles every second (n odd); 9 is set for 10 s of every 20 s; the rest 0.
std::vector<std::uint8_t> bits_at(std::uint64_t n);

// Writes the parts that change with n into an existing map (registers/bits as above).
void update_dynamic(std::uint64_t n, std::uint16_t* registers, std::uint8_t* bits);

}  // namespace uc::simulator::modbus
