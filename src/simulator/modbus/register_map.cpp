#include "simulator/modbus/register_map.h"

#include <cmath>
#include <numbers>

#include "protocols/modbus/codec.h"

namespace uc::simulator::modbus {
namespace {

void put(std::uint16_t* regs, int address, const Field& f, ByteOrder order, const Value& v) {
  auto encoded = protocols::modbus::encode_registers(f.type, order, v, f.length);
  if (!encoded.is_ok()) return;  // every field has a value of its type
  for (std::size_t i = 0; i < encoded->size(); ++i) regs[address + static_cast<int>(i)] = (*encoded)[i];
}

constexpr const char* kStates[] = {"IDLE", "STARTING", "RUNNING", "STOPPING"};

}  // namespace

const std::vector<Field>& block_fields() {
  static const std::vector<Field> kFields = {
      {0, DataType::kInt16, 0, "int16"},     {1, DataType::kUint16, 0, "uint16"},
      {2, DataType::kInt32, 0, "int32"},     {4, DataType::kUint32, 0, "uint32"},
      {6, DataType::kFloat32, 0, "float32"}, {8, DataType::kInt64, 0, "int64"},
      {12, DataType::kUint64, 0, "uint64"},  {16, DataType::kFloat64, 0, "float64"},
      {20, DataType::kString, 10, "string"},
  };
  return kFields;
}

Value static_value(const Field& f, ByteOrder order) {
  switch (f.type) {
    case DataType::kInt16: return Value(std::int64_t{-12345});
    case DataType::kUint16: return Value(std::uint64_t{54321});
    case DataType::kInt32: return Value(std::int64_t{-123456789});
    case DataType::kUint32: return Value(std::uint64_t{3000000000});
    case DataType::kFloat32: return Value(123456.0);
    case DataType::kInt64: return Value(std::int64_t{-1234567890123456789});
    case DataType::kUint64: return Value(std::uint64_t{12345678901234567890ULL});
    case DataType::kFloat64: return Value(-2.718281828459045);
    case DataType::kString: return Value(std::string("ORDER-") + protocols::modbus::to_string(order));
    default: return Value();
  }
}

Value dynamic_value(const Field& f, std::uint64_t n) {
  const double phase = 2.0 * std::numbers::pi * static_cast<double>(n % 60) / 60.0;
  switch (f.type) {
    case DataType::kInt16: return Value(static_cast<std::int64_t>(n % 2000) - 1000);
    case DataType::kUint16: return Value(n % 65536);
    case DataType::kInt32: return Value(-static_cast<std::int64_t>(n % 2000000) * 1000);
    case DataType::kUint32: return Value((n * 100000) % 4294967296ULL);
    case DataType::kFloat32: return Value(static_cast<double>(static_cast<float>(50.0 + 25.0 * std::sin(phase))));
    case DataType::kInt64: return Value(-static_cast<std::int64_t>(n % 1000000) * 1000000000000LL);
    case DataType::kUint64: return Value((n % 10000) * 1000000000000000ULL);
    case DataType::kFloat64: return Value(100.0 * std::sin(phase));
    case DataType::kString: return Value(std::string(kStates[(n / 15) % 4]));
    default: return Value();
  }
}

std::vector<std::uint16_t> registers_at(std::uint64_t n) {
  std::vector<std::uint16_t> regs(kRegisterCount, 0);
  std::vector<std::uint8_t> bits(kBitCount, 0);
  for (std::size_t k = 0; k < 4; ++k) {
    const ByteOrder order = protocols::modbus::kAllOrders[k];
    for (const Field& f : block_fields()) {
      put(regs.data(), kStaticBase + static_cast<int>(k) * kBlockSize + f.offset, f, order, static_value(f, order));
    }
  }
  update_dynamic(n, regs.data(), bits.data());
  return regs;
}

std::vector<std::uint8_t> bits_at(std::uint64_t n) {
  std::vector<std::uint16_t> regs(kRegisterCount, 0);
  std::vector<std::uint8_t> bits(kBitCount, 0);
  update_dynamic(n, regs.data(), bits.data());
  return bits;
}

void update_dynamic(std::uint64_t n, std::uint16_t* registers, std::uint8_t* bits) {
  for (std::size_t k = 0; k < 4; ++k) {
    const ByteOrder order = protocols::modbus::kAllOrders[k];
    for (const Field& f : block_fields()) {
      put(registers, kDynamicBase + static_cast<int>(k) * kBlockSize + f.offset, f, order, dynamic_value(f, n));
    }
  }
  for (int a = kRampBase; a < kRegisterCount; ++a) {
    registers[a] = static_cast<std::uint16_t>((static_cast<std::uint64_t>(a) + n) & 0xFFFF);
  }
  static constexpr std::uint8_t kPattern[8] = {1, 0, 1, 1, 0, 0, 1, 0};
  for (int i = 0; i < 8; ++i) bits[i] = kPattern[i];
  bits[8] = static_cast<std::uint8_t>(n % 2);
  bits[9] = static_cast<std::uint8_t>((n / 10) % 2);
}

}  // namespace uc::simulator::modbus
