// The OPC UA built-in types (OPC 10000-6 §5.1.2) as plain values.
//
// - String is std::optional<std::string>: nullopt is the null string (length -1), which the
//   binary encoding distinguishes from the empty string. ByteString and XmlElement wrap the
//   same so that a Variant can tell them apart.
// - The alternatives of Variant::Scalar are in built-in type id order (0 = null ... 25 =
//   DiagnosticInfo): `scalar.index()` is the type id on the wire.
// - Recursive members (a Variant in a DataValue, an inner DiagnosticInfo) live in Box, a
//   copyable owning pointer.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace uc::opcua {

using String = std::optional<std::string>;

struct ByteString {
  std::optional<std::string> data;  // nullopt: null ByteString
  bool operator==(const ByteString&) const = default;
};

struct XmlElement {
  std::optional<std::string> data;
  bool operator==(const XmlElement&) const = default;
};

// 100 ns ticks since 1601-01-01 UTC; 0 means "not set".
struct DateTime {
  std::int64_t ticks = 0;
  bool operator==(const DateTime&) const = default;
};

inline constexpr std::int64_t kUnixEpochTicks = 116'444'736'000'000'000;
inline std::int64_t datetime_to_unix_us(DateTime t) { return (t.ticks - kUnixEpochTicks) / 10; }
inline DateTime datetime_from_unix_us(std::int64_t us) { return {us * 10 + kUnixEpochTicks}; }

struct Guid {
  std::uint32_t data1 = 0;
  std::uint16_t data2 = 0, data3 = 0;
  std::array<std::uint8_t, 8> data4{};
  bool operator==(const Guid&) const = default;
};

struct StatusCode {
  std::uint32_t code = 0;
  bool is_good() const { return (code >> 30) == 0; }
  bool is_uncertain() const { return (code >> 30) == 1; }
  bool is_bad() const { return (code >> 30) >= 2; }
  bool operator==(const StatusCode&) const = default;
};

struct NodeId {
  std::uint16_t ns = 0;
  // numeric (i=), string (s=), guid (g=), opaque (b=)
  std::variant<std::uint32_t, std::string, Guid, ByteString> id = std::uint32_t{0};

  NodeId() = default;
  NodeId(std::uint16_t n, std::uint32_t i) : ns(n), id(i) {}
  NodeId(std::uint16_t n, std::string s) : ns(n), id(std::move(s)) {}
  explicit NodeId(std::uint32_t i) : id(i) {}  // ns = 0
  bool is_null() const { return ns == 0 && id.index() == 0 && std::get<0>(id) == 0; }
  bool operator==(const NodeId&) const = default;
};

struct ExpandedNodeId {
  NodeId node_id;
  String namespace_uri;         // when set, node_id.ns is ignored
  std::uint32_t server_index = 0;
  bool operator==(const ExpandedNodeId&) const = default;
};

struct QualifiedName {
  std::uint16_t ns = 0;
  String name;
  bool operator==(const QualifiedName&) const = default;
};

struct LocalizedText {
  String locale;
  String text;
  bool operator==(const LocalizedText&) const = default;
};

// A structure carried by its encoding NodeId. Bodies of types this stack knows are
// decoded by the caller from `body` (see encoding.h decode_extension).
struct ExtensionObject {
  enum class Encoding : std::uint8_t { kNone = 0, kBinary = 1, kXml = 2 };
  NodeId type_id;
  Encoding encoding = Encoding::kNone;
  std::string body;
  bool operator==(const ExtensionObject&) const = default;
};

template <typename T>
class Box {
 public:
  Box() : p_(std::make_unique<T>()) {}
  Box(T v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT(google-explicit-constructor)
  Box(const Box& o) : p_(std::make_unique<T>(*o.p_)) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) {
    if (this != &o) p_ = std::make_unique<T>(*o.p_);
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  // Out of line: inlined, GCC 12 reports a false -Wnull-dereference on moved-from boxes.
  [[gnu::noinline]] ~Box() = default;
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  bool operator==(const Box& o) const { return *p_ == *o.p_; }

 private:
  std::unique_ptr<T> p_;  // never null except after a move
};

struct DiagnosticInfo {
  std::optional<std::int32_t> symbolic_id, namespace_uri, locale, localized_text;
  String additional_info;
  std::optional<StatusCode> inner_status_code;
  std::optional<Box<DiagnosticInfo>> inner;
  bool operator==(const DiagnosticInfo&) const = default;
};

struct DataValue;
struct Variant;

enum class BuiltinType : std::uint8_t {
  kNull = 0, kBoolean, kSByte, kByte, kInt16, kUInt16, kInt32, kUInt32, kInt64, kUInt64, kFloat, kDouble,
  kString, kDateTime, kGuid, kByteString, kXmlElement, kNodeId, kExpandedNodeId, kStatusCode,
  kQualifiedName, kLocalizedText, kExtensionObject, kDataValue, kVariant, kDiagnosticInfo,
};
const char* builtin_type_name(BuiltinType t);

struct Variant {
  using Scalar = std::variant<std::monostate, bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t,
                              std::uint32_t, std::int64_t, std::uint64_t, float, double, String, DateTime, Guid,
                              ByteString, XmlElement, NodeId, ExpandedNodeId, StatusCode, QualifiedName,
                              LocalizedText, ExtensionObject, Box<DataValue>, Box<Variant>, Box<DiagnosticInfo>>;

  BuiltinType type = BuiltinType::kNull;
  bool is_array = false;
  std::vector<Scalar> values;       // one element for a scalar; all of `type` for an array
  std::vector<std::int32_t> dims;   // matrix dimensions (empty: one-dimensional or scalar)

  Variant() = default;
  template <typename T>
  static Variant scalar(T v) {
    Variant out;
    out.values.emplace_back(std::move(v));
    out.type = static_cast<BuiltinType>(out.values.front().index());
    return out;
  }
  template <typename T>
  static Variant array(std::vector<T> items, std::vector<std::int32_t> dimensions = {}) {
    Variant out;
    out.type = static_cast<BuiltinType>(Scalar(T{}).index());
    out.is_array = true;
    out.dims = std::move(dimensions);
    out.values.reserve(items.size());
    for (auto& v : items) out.values.emplace_back(std::move(v));
    return out;
  }
  bool is_null() const { return type == BuiltinType::kNull; }
  bool operator==(const Variant&) const = default;
};

struct DataValue {
  std::optional<Variant> value;
  std::optional<StatusCode> status;  // absent: Good
  std::optional<DateTime> source_timestamp;
  std::optional<std::uint16_t> source_picoseconds;
  std::optional<DateTime> server_timestamp;
  std::optional<std::uint16_t> server_picoseconds;
  bool operator==(const DataValue&) const = default;
};

}  // namespace uc::opcua
