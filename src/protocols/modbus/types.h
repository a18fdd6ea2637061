// Modbus vocabulary shared by the codec, the read planner, the source and the
// simulator: tables, value types and the four word/byte orders.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace uc::protocols::modbus {

enum class Table : std::uint8_t { kCoil, kDiscrete, kHolding, kInput };
enum class DataType : std::uint8_t {
  kBool, kInt16, kUint16, kInt32, kUint32, kInt64, kUint64, kFloat32, kFloat64, kString
};
// Order of the bytes of a 32-bit value as sent, A being the most significant.
// 16-bit values use the byte half (AB for ABCD/CDAB, BA for BADC/DCBA); 64-bit values
// extend the pattern over four registers (ABCD → ABCDEFGH, CDAB → GHEFCDAB,
// BADC → BADCFEHG, DCBA → HGFEDCBA). Put differently: CDAB reverses the registers,
// BADC swaps the two bytes inside each register, DCBA does both.
enum class ByteOrder : std::uint8_t { kABCD, kCDAB, kBADC, kDCBA };
inline constexpr ByteOrder kAllOrders[] = {ByteOrder::kABCD, ByteOrder::kCDAB, ByteOrder::kBADC, ByteOrder::kDCBA};

// Protocol maxima of one read request (Modbus Application Protocol v1.1b3 §6.1-6.4).
inline constexpr int kMaxReadRegisters = 125;
inline constexpr int kMaxReadBits = 2000;

const char* to_string(Table t);
const char* to_string(DataType t);
const char* to_string(ByteOrder o);
std::optional<ByteOrder> parse_byte_order(std::string_view text);

inline bool is_bit_table(Table t) { return t == Table::kCoil || t == Table::kDiscrete; }
inline bool reverses_words(ByteOrder o) { return o == ByteOrder::kCDAB || o == ByteOrder::kDCBA; }
inline bool swaps_bytes(ByteOrder o) { return o == ByteOrder::kBADC || o == ByteOrder::kDCBA; }

// Number of addresses (registers, or bits for coil/discrete) a value occupies.
// Strings hold two characters per register.
int register_width(DataType type, int length);

// The Modbus function code that reads a table (1, 2, 3, 4).
int read_function_code(Table t);

// Standard name of an exception code ("ILLEGAL DATA ADDRESS"), "UNKNOWN" otherwise.
const char* exception_name(int code);

}  // namespace uc::protocols::modbus
