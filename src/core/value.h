// The protocol-neutral value a sample carries: null, a scalar, or a flat array of
// scalars (matrices are flattened; their dimensions travel in metadata).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace uc {

struct Bytes {
  std::vector<std::uint8_t> data;
  bool operator==(const Bytes&) const = default;
};

using Scalar = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string, Bytes>;

struct Array {
  std::vector<Scalar> items;
  bool operator==(const Array&) const = default;
};

// Index order is part of the contract (ValueKind mirrors it).
using Value = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string, Bytes, Array>;

enum class ValueKind { kNull, kBool, kInt, kUInt, kDouble, kString, kBytes, kArray };

inline ValueKind kind_of(const Value& v) { return static_cast<ValueKind>(v.index()); }

// Lowercase name used in the record's value_type column: null, bool, int64,
// uint64, double, string, bytes, array.
const char* value_kind_name(ValueKind kind);

// Text form: numbers shortest round-trip, bools true/false, bytes base64,
// arrays as a JSON array. Null gives "".
std::string value_to_text(const Value& v);
std::string scalar_to_text(const Scalar& s);
void append_double(std::string& out, double d);

// Numeric form where one exists (bool → 0/1, integers and doubles as double).
bool value_to_double(const Value& v, double* out);

std::string base64_encode(const std::uint8_t* data, std::size_t size);

}  // namespace uc
