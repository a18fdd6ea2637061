// Register/bit ↔ value conversion (sans-IO, pure). Our own: libmodbus 3.1.6's float
// setters write the wrong order (research/protocols.md §7.2), and one table of shifts
// serves every width.
//
// Canonical form: the value's bytes big-endian, A (most significant) first. Registers
// are what the wire carries, each a big-endian 16-bit word, register 0 first.
// Strings: two characters per register, first character in the high byte under
// ABCD/CDAB and in the low byte under BADC/DCBA (registers are never reversed for
// strings); the value ends at the first NUL, and bytes outside printable ASCII
// become '?', so the text is always valid UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/value.h"
#include "protocols/modbus/types.h"

namespace uc::protocols::modbus {

// regs (n registers) → 2n canonical bytes.
void registers_to_bytes(std::span<const std::uint16_t> regs, ByteOrder order, std::uint8_t* out);
// 2n canonical bytes → n registers.
void bytes_to_registers(const std::uint8_t* bytes, std::size_t n, ByteOrder order, std::uint16_t* out);

// Decodes one value (no scale/offset). regs.size() must be register_width(type, length).
// Signed types give int64, unsigned give uint64, floats give double, bool a bool
// (register != 0), string a string.
Result<Value> decode_registers(DataType type, ByteOrder order, std::span<const std::uint16_t> regs, int length = 0);

// value * scale + offset. Integers stay integers when scale is 1 and offset 0;
// otherwise the result is a double. Bools and strings are returned unchanged.
Value apply_scale(Value raw, double scale, double offset);

// Encodes a value into register_width(type, length) registers. Integer types take
// int64/uint64/bool/double (truncated to the type's width, two's complement), float
// types take any number, bool takes bool or a number (→ 0/1), string takes a string
// (cut or NUL-padded to length).
Result<std::vector<std::uint16_t>> encode_registers(DataType type, ByteOrder order, const Value& value, int length = 0);

}  // namespace uc::protocols::modbus
