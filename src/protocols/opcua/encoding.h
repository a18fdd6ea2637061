// OPC UA Binary encoding of the built-in types (OPC 10000-6 §5.2), sans-IO.
//
// - Encoder appends to a byte string; it cannot fail.
// - Decoder reads from a borrowed span. Every decode returns false on the first error and
//   keeps that error's text (`error()`); later reads fail too, so a caller may decode a whole
//   structure and check once. Lengths are checked before reads, and every String,
//   ByteString and array length, the Variant/DiagnosticInfo/DataValue nesting depth and the
//   total input size are bounded by Limits. Strings must be valid UTF-8.
// - Generated structures (generated/types.h) are built from the overloads here.
#pragma once

#include "core/utf8.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/opcua/types.h"

namespace uc::opcua {

struct Limits {
  std::int32_t max_string_length = 16 * 1024 * 1024;  // String, ByteString, XmlElement bytes
  std::int32_t max_array_length = 1024 * 1024;         // elements of any array
  int max_depth = 32;                                  // nesting of Variant/DataValue/DiagnosticInfo/structs
};

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { raw(&v, 2); }
  void u32(std::uint32_t v) { raw(&v, 4); }
  void u64(std::uint64_t v) { raw(&v, 8); }
  void i32(std::int32_t v) { raw(&v, 4); }
  void bytes(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& buffer() { return out_; }
  std::size_t size() const { return out_.size(); }

 private:
  // The wire is little-endian, as is every target this builds for (checked in encoding.cpp).
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& out_;
};

class Decoder {
 public:
  Decoder(std::string_view in, const Limits& limits) : p_(in.data()), end_(in.data() + in.size()), limits_(limits) {}

  bool u8(std::uint8_t& v) { return raw(&v, 1); }
  bool u16(std::uint16_t& v) { return raw(&v, 2); }
  bool u32(std::uint32_t& v) { return raw(&v, 4); }
  bool u64(std::uint64_t& v) { return raw(&v, 8); }
  bool i32(std::int32_t& v) { return raw(&v, 4); }
  bool raw(void* out, std::size_t n) {
    if (failed_) return false;
    if (static_cast<std::size_t>(end_ - p_) < n) return fail("truncated input");
    std::memcpy(out, p_, n);
    p_ += n;
    return true;
  }
  bool take(std::size_t n, std::string& out) {
    if (failed_) return false;
    if (static_cast<std::size_t>(end_ - p_) < n) return fail("truncated input");
    out.assign(p_, n);
    p_ += n;
    return true;
  }
  // Reads an Int32 array length: -1 (null) and 0 give 0; negative or over the limit fail.
  bool array_length(std::int32_t& n, const char* what);

  bool fail(std::string message);
  bool ok() const { return !failed_; }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  std::size_t position(std::string_view in) const { return static_cast<std::size_t>(p_ - in.data()); }
  const Limits& limits() const { return limits_; }

  // Nesting guard: enter() fails past limits.max_depth.
  bool enter();
  void leave() { --depth_; }

 private:
  const char* p_;
  const char* end_;
  Limits limits_;  // a copy: a Decoder built with a temporary Limits{} must not dangle
  int depth_ = 0;
  bool failed_ = false;
  std::string error_;
};

// Strict UTF-8 (core/utf8.h).
using ::uc::is_valid_utf8;

// ---- scalars --------------------------------------------------------------------------
inline void encode(Encoder& e, bool v) { e.u8(v ? 1 : 0); }
inline void encode(Encoder& e, std::int8_t v) { e.u8(static_cast<std::uint8_t>(v)); }
inline void encode(Encoder& e, std::uint8_t v) { e.u8(v); }
inline void encode(Encoder& e, std::int16_t v) { e.u16(static_cast<std::uint16_t>(v)); }
inline void encode(Encoder& e, std::uint16_t v) { e.u16(v); }
inline void encode(Encoder& e, std::int32_t v) { e.i32(v); }
inline void encode(Encoder& e, std::uint32_t v) { e.u32(v); }
inline void encode(Encoder& e, std::int64_t v) { e.u64(static_cast<std::uint64_t>(v)); }
inline void encode(Encoder& e, std::uint64_t v) { e.u64(v); }
void encode(Encoder& e, float v);
void encode(Encoder& e, double v);
void encode(Encoder& e, const String& v);
void encode(Encoder& e, const ByteString& v);
void encode(Encoder& e, const XmlElement& v);
inline void encode(Encoder& e, DateTime v) { encode(e, v.ticks); }
void encode(Encoder& e, const Guid& v);
inline void encode(Encoder& e, StatusCode v) { e.u32(v.code); }
void encode(Encoder& e, const NodeId& v);
void encode(Encoder& e, const ExpandedNodeId& v);
void encode(Encoder& e, const QualifiedName& v);
void encode(Encoder& e, const LocalizedText& v);
void encode(Encoder& e, const ExtensionObject& v);
void encode(Encoder& e, const DiagnosticInfo& v);
void encode(Encoder& e, const Variant& v);
void encode(Encoder& e, const DataValue& v);

bool decode(Decoder& d, bool& v);
bool decode(Decoder& d, std::int8_t& v);
bool decode(Decoder& d, std::uint8_t& v);
bool decode(Decoder& d, std::int16_t& v);
bool decode(Decoder& d, std::uint16_t& v);
bool decode(Decoder& d, std::int32_t& v);
bool decode(Decoder& d, std::uint32_t& v);
bool decode(Decoder& d, std::int64_t& v);
bool decode(Decoder& d, std::uint64_t& v);
bool decode(Decoder& d, float& v);
bool decode(Decoder& d, double& v);
bool decode(Decoder& d, String& v);
bool decode(Decoder& d, ByteString& v);
bool decode(Decoder& d, XmlElement& v);
bool decode(Decoder& d, DateTime& v);
bool decode(Decoder& d, Guid& v);
bool decode(Decoder& d, StatusCode& v);
bool decode(Decoder& d, NodeId& v);
bool decode(Decoder& d, ExpandedNodeId& v);
bool decode(Decoder& d, QualifiedName& v);
bool decode(Decoder& d, LocalizedText& v);
bool decode(Decoder& d, ExtensionObject& v);
bool decode(Decoder& d, DiagnosticInfo& v);
bool decode(Decoder& d, Variant& v);
bool decode(Decoder& d, DataValue& v);

// ---- arrays outside a Variant: Int32 count (-1 = null, decoded as empty), then elements ----
template <typename T>
void encode(Encoder& e, const std::vector<T>& v) {
  e.i32(static_cast<std::int32_t>(v.size()));
  for (const auto& x : v) encode(e, x);
}
inline void encode(Encoder& e, const std::vector<bool>& v) {
  e.i32(static_cast<std::int32_t>(v.size()));
  for (bool x : v) encode(e, x);
}

template <typename T>
bool decode(Decoder& d, std::vector<T>& v) {
  std::int32_t n = 0;
  if (!d.array_length(n, "array")) return false;
  v.clear();
  // Reserve no more than the input could hold (each element takes at least one byte).
  v.reserve(std::min<std::size_t>(static_cast<std::size_t>(n), d.remaining()));
  for (std::int32_t i = 0; i < n; ++i) {
    v.emplace_back();
    if (!decode(d, v.back())) return false;
  }
  return true;
}
inline bool decode(Decoder& d, std::vector<bool>& v) {
  std::int32_t n = 0;
  if (!d.array_length(n, "array")) return false;
  v.assign(static_cast<std::size_t>(n), false);
  for (std::int32_t i = 0; i < n; ++i) {
    bool b = false;
    if (!decode(d, b)) return false;
    v[static_cast<std::size_t>(i)] = b;
  }
  return true;
}

// A structure wrapped as an ExtensionObject with a binary body (T::kBinaryEncodingId).
template <typename T>
ExtensionObject make_extension(const T& value) {
  ExtensionObject out;
  out.type_id = NodeId(T::kBinaryEncodingId);
  out.encoding = ExtensionObject::Encoding::kBinary;
  Encoder e(out.body);
  encode(e, value);
  return out;
}

// Decodes the body of `obj` into T when its type is T's binary encoding. Returns false
// (with `error` set) for another type or a malformed body.
template <typename T>
bool decode_extension(const ExtensionObject& obj, T& out, const Limits& limits, std::string* error = nullptr) {
  if (obj.encoding != ExtensionObject::Encoding::kBinary || obj.type_id != NodeId(T::kBinaryEncodingId)) {
    if (error != nullptr) *error = "unexpected extension object type";
    return false;
  }
  Decoder d(obj.body, limits);
  if (!decode(d, out)) {
    if (error != nullptr) *error = d.error();
    return false;
  }
  return true;
}

// Text form of a NodeId: "i=85", "ns=2;s=Temp", "ns=1;g=...", "ns=1;b=<base64>".
std::string to_string(const NodeId& id);
// Parses the forms above (nsu= is resolved by the caller against the namespace array).
bool parse_node_id(std::string_view text, NodeId& out);

}  // namespace uc::opcua
