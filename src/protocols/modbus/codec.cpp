#include "protocols/modbus/codec.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace uc::protocols::modbus {
namespace {

std::uint64_t load_be(const std::uint8_t* b, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | b[i];
  return v;
}

void store_be(std::uint64_t v, std::size_t n, std::uint8_t* out) {
  for (std::size_t i = n; i-- > 0;) {
    out[i] = static_cast<std::uint8_t>(v & 0xFF);
    v >>= 8;
  }
}

Status width_error(DataType type, std::size_t got, int want) {
  return invalid_argument(std::string(to_string(type)) + " needs " + std::to_string(want) + " registers, got " +
                          std::to_string(got));
}

// Integer view of a number for encoding, two's complement for negative values.
bool to_bits(const Value& v, std::uint64_t* out) {
  switch (kind_of(v)) {
    case ValueKind::kBool: *out = std::get<bool>(v) ? 1 : 0; return true;
    case ValueKind::kInt: *out = static_cast<std::uint64_t>(std::get<std::int64_t>(v)); return true;
    case ValueKind::kUInt: *out = std::get<std::uint64_t>(v); return true;
    case ValueKind::kDouble: {
      const double d = std::get<double>(v);
      if (!std::isfinite(d)) return false;
      if (d < 0) {
        if (d < -9.2233720368547758e18) return false;
        *out = static_cast<std::uint64_t>(static_cast<std::int64_t>(d));
      } else {
        if (d >= 1.8446744073709552e19) return false;
        *out = static_cast<std::uint64_t>(d);
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace

void registers_to_bytes(std::span<const std::uint16_t> regs, ByteOrder order, std::uint8_t* out) {
  const std::size_t n = regs.size();
  for (std::size_t i = 0; i < n; ++i) {
    // Register i carries canonical word i, or word n-1-i when the words are reversed.
    const std::size_t word = reverses_words(order) ? n - 1 - i : i;
    std::uint16_t r = regs[i];
    if (swaps_bytes(order)) r = static_cast<std::uint16_t>((r << 8) | (r >> 8));
    out[2 * word] = static_cast<std::uint8_t>(r >> 8);
    out[2 * word + 1] = static_cast<std::uint8_t>(r & 0xFF);
  }
}

void bytes_to_registers(const std::uint8_t* bytes, std::size_t n, ByteOrder order, std::uint16_t* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t word = reverses_words(order) ? n - 1 - i : i;
    std::uint16_t r = static_cast<std::uint16_t>((bytes[2 * word] << 8) | bytes[2 * word + 1]);
    if (swaps_bytes(order)) r = static_cast<std::uint16_t>((r << 8) | (r >> 8));
    out[i] = r;
  }
}

Result<Value> decode_registers(DataType type, ByteOrder order, std::span<const std::uint16_t> regs, int length) {
  const int want = register_width(type, length);
  if (regs.size() != static_cast<std::size_t>(want)) return width_error(type, regs.size(), want);
  if (type == DataType::kString) {
    std::string s;
    s.reserve(static_cast<std::size_t>(length));
    for (int i = 0; i < length; ++i) {
      const std::uint16_t r = regs[static_cast<std::size_t>(i / 2)];
      const bool high = (i % 2 == 0) != swaps_bytes(order);
      const auto c = static_cast<unsigned char>(high ? r >> 8 : r & 0xFF);
      if (c == 0) break;
      s.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
    }
    return Value(std::move(s));
  }
  if (type == DataType::kBool) return Value(regs[0] != 0);
  std::uint8_t b[8];
  registers_to_bytes(regs, order, b);
  const std::uint64_t v = load_be(b, regs.size() * 2);
  switch (type) {
    case DataType::kInt16: return Value(static_cast<std::int64_t>(static_cast<std::int16_t>(v)));
    case DataType::kUint16: return Value(static_cast<std::uint64_t>(static_cast<std::uint16_t>(v)));
    case DataType::kInt32: return Value(static_cast<std::int64_t>(static_cast<std::int32_t>(v)));
    case DataType::kUint32: return Value(static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)));
    case DataType::kInt64: return Value(static_cast<std::int64_t>(v));
    case DataType::kUint64: return Value(v);
    case DataType::kFloat32:
      return Value(static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(v))));
    case DataType::kFloat64: return Value(std::bit_cast<double>(v));
    default: break;
  }
  return internal_error("unhandled type");
}

Value apply_scale(Value raw, double scale, double offset) {
  if (scale == 1.0 && offset == 0.0) return raw;
  switch (kind_of(raw)) {
    case ValueKind::kInt: return Value(static_cast<double>(std::get<std::int64_t>(raw)) * scale + offset);
    case ValueKind::kUInt: return Value(static_cast<double>(std::get<std::uint64_t>(raw)) * scale + offset);
    case ValueKind::kDouble: return Value(std::get<double>(raw) * scale + offset);
    default: return raw;
  }
}

Result<std::vector<std::uint16_t>> encode_registers(DataType type, ByteOrder order, const Value& value, int length) {
  const int n = register_width(type, length);
  std::vector<std::uint16_t> regs(static_cast<std::size_t>(n), 0);
  if (type == DataType::kString) {
    if (!std::holds_alternative<std::string>(value)) return invalid_argument("string needs a string value");
    const std::string& s = std::get<std::string>(value);
    for (int i = 0; i < length && static_cast<std::size_t>(i) < s.size(); ++i) {
      const auto c = static_cast<std::uint8_t>(s[static_cast<std::size_t>(i)]);
      const bool high = (i % 2 == 0) != swaps_bytes(order);
      std::uint16_t& r = regs[static_cast<std::size_t>(i / 2)];
      r = static_cast<std::uint16_t>(high ? (r & 0x00FF) | (c << 8) : (r & 0xFF00) | c);
    }
    return regs;
  }
  std::uint64_t bits = 0;
  if (type == DataType::kFloat32 || type == DataType::kFloat64) {
    double d = 0;
    if (!value_to_double(value, &d)) return invalid_argument(std::string(to_string(type)) + " needs a number");
    if (type == DataType::kFloat32) {
      // Out-of-range conversion to float is undefined; saturate to ±infinity instead.
      float f = 0;
      if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
        f = d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
      } else {
        f = static_cast<float>(d);
      }
      bits = std::bit_cast<std::uint32_t>(f);
    } else {
      bits = std::bit_cast<std::uint64_t>(d);
    }
  } else if (!to_bits(value, &bits)) {
    return invalid_argument(std::string(to_string(type)) + " needs an integer value");
  }
  if (type == DataType::kBool) {
    regs[0] = bits != 0 ? 1 : 0;
    return regs;
  }
  std::uint8_t b[8];
  store_be(bits, static_cast<std::size_t>(n) * 2, b);
  bytes_to_registers(b, static_cast<std::size_t>(n), order, regs.data());
  return regs;
}

}  // namespace uc::protocols::modbus
