#include "protocols/opcua/encoding.h"

#include <bit>
#include <charconv>
#include <cstdio>

#include "core/value.h"

namespace uc::opcua {

static_assert(std::endian::native == std::endian::little, "the OPC UA wire is little-endian; add byte swaps");

const char* builtin_type_name(BuiltinType t) {
  static const char* const kNames[] = {
      "Null",       "Boolean",  "SByte",      "Byte",         "Int16",          "UInt16",        "Int32",
      "UInt32",     "Int64",    "UInt64",     "Float",        "Double",         "String",        "DateTime",
      "Guid",       "ByteString", "XmlElement", "NodeId",     "ExpandedNodeId", "StatusCode",    "QualifiedName",
      "LocalizedText", "ExtensionObject", "DataValue", "Variant", "DiagnosticInfo"};
  auto i = static_cast<std::size_t>(t);
  return i < std::size(kNames) ? kNames[i] : "Unknown";
}

bool Decoder::fail(std::string message) {
  if (!failed_) {
    failed_ = true;
    error_ = std::move(message);
  }
  return false;
}

bool Decoder::array_length(std::int32_t& n, const char* what) {
  if (!i32(n)) return false;
  if (n == -1) n = 0;
  if (n < 0) return fail(std::string("negative ") + what + " length " + std::to_string(n));
  if (n > limits_.max_array_length) {
    return fail(std::string(what) + " length " + std::to_string(n) + " exceeds the limit " +
                std::to_string(limits_.max_array_length));
  }
  return true;
}

bool Decoder::enter() {
  if (++depth_ > limits_.max_depth) {
    --depth_;
    return fail("nesting deeper than " + std::to_string(limits_.max_depth));
  }
  return true;
}

// ---- scalars ----------------------------------------------------------------------------

void encode(Encoder& e, float v) { e.u32(std::bit_cast<std::uint32_t>(v)); }
void encode(Encoder& e, double v) { e.u64(std::bit_cast<std::uint64_t>(v)); }

static void encode_opt_bytes(Encoder& e, const std::optional<std::string>& v) {
  if (!v) {
    e.i32(-1);
    return;
  }
  e.i32(static_cast<std::int32_t>(v->size()));
  e.bytes(v->data(), v->size());
}
void encode(Encoder& e, const String& v) { encode_opt_bytes(e, v); }
void encode(Encoder& e, const ByteString& v) { encode_opt_bytes(e, v.data); }
void encode(Encoder& e, const XmlElement& v) { encode_opt_bytes(e, v.data); }

void encode(Encoder& e, const Guid& v) {
  e.u32(v.data1);
  e.u16(v.data2);
  e.u16(v.data3);
  e.bytes(v.data4.data(), 8);
}

static void encode_node_id(Encoder& e, const NodeId& v, std::uint8_t flags) {
  switch (v.id.index()) {
    case 0: {
      auto i = std::get<0>(v.id);
      if (v.ns == 0 && i <= 0xFF) {
        e.u8(0x00 | flags);
        e.u8(static_cast<std::uint8_t>(i));
      } else if (v.ns <= 0xFF && i <= 0xFFFF) {
        e.u8(0x01 | flags);
        e.u8(static_cast<std::uint8_t>(v.ns));
        e.u16(static_cast<std::uint16_t>(i));
      } else {
        e.u8(0x02 | flags);
        e.u16(v.ns);
        e.u32(i);
      }
      return;
    }
    case 1:
      e.u8(0x03 | flags);
      e.u16(v.ns);
      encode(e, String(std::get<1>(v.id)));
      return;
    case 2:
      e.u8(0x04 | flags);
      e.u16(v.ns);
      encode(e, std::get<2>(v.id));
      return;
    default:
      e.u8(0x05 | flags);
      e.u16(v.ns);
      encode(e, std::get<3>(v.id));
      return;
  }
}

void encode(Encoder& e, const NodeId& v) { encode_node_id(e, v, 0); }

void encode(Encoder& e, const ExpandedNodeId& v) {
  std::uint8_t flags = (v.namespace_uri ? 0x80 : 0) | (v.server_index != 0 ? 0x40 : 0);
  encode_node_id(e, v.node_id, flags);
  if (v.namespace_uri) encode(e, v.namespace_uri);
  if (v.server_index != 0) e.u32(v.server_index);
}

void encode(Encoder& e, const QualifiedName& v) {
  e.u16(v.ns);
  encode(e, v.name);
}

void encode(Encoder& e, const LocalizedText& v) {
  e.u8(static_cast<std::uint8_t>((v.locale ? 0x01 : 0) | (v.text ? 0x02 : 0)));
  if (v.locale) encode(e, v.locale);
  if (v.text) encode(e, v.text);
}

void encode(Encoder& e, const ExtensionObject& v) {
  encode(e, v.type_id);
  e.u8(static_cast<std::uint8_t>(v.encoding));
  if (v.encoding != ExtensionObject::Encoding::kNone) {
    e.i32(static_cast<std::int32_t>(v.body.size()));
    e.bytes(v.body.data(), v.body.size());
  }
}

void encode(Encoder& e, const DiagnosticInfo& v) {
  std::uint8_t mask = (v.symbolic_id ? 0x01 : 0) | (v.namespace_uri ? 0x02 : 0) | (v.localized_text ? 0x04 : 0) |
                      (v.locale ? 0x08 : 0) | (v.additional_info ? 0x10 : 0) | (v.inner_status_code ? 0x20 : 0) |
                      (v.inner ? 0x40 : 0);
  e.u8(mask);
  if (v.symbolic_id) e.i32(*v.symbolic_id);
  if (v.namespace_uri) e.i32(*v.namespace_uri);
  if (v.locale) e.i32(*v.locale);
  if (v.localized_text) e.i32(*v.localized_text);
  if (v.additional_info) encode(e, v.additional_info);
  if (v.inner_status_code) encode(e, *v.inner_status_code);
  if (v.inner) encode(e, **v.inner);
}

static void encode_scalar(Encoder& e, const Variant::Scalar& s) {
  std::visit(
      [&e](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
        } else if constexpr (std::is_same_v<T, Box<DataValue>> || std::is_same_v<T, Box<Variant>> ||
                             std::is_same_v<T, Box<DiagnosticInfo>>) {
          encode(e, *x);
        } else {
          encode(e, x);
        }
      },
      s);
}

void encode(Encoder& e, const Variant& v) {
  if (v.type == BuiltinType::kNull) {
    e.u8(0);
    return;
  }
  auto mask = static_cast<std::uint8_t>(v.type);
  if (v.is_array) {
    mask |= 0x80;
    if (!v.dims.empty()) mask |= 0x40;
    e.u8(mask);
    e.i32(static_cast<std::int32_t>(v.values.size()));
    for (const auto& s : v.values) encode_scalar(e, s);
    if (!v.dims.empty()) encode(e, v.dims);
    return;
  }
  e.u8(mask);
  if (!v.values.empty()) encode_scalar(e, v.values.front());
}

void encode(Encoder& e, const DataValue& v) {
  std::uint8_t mask = (v.value ? 0x01 : 0) | (v.status ? 0x02 : 0) | (v.source_timestamp ? 0x04 : 0) |
                      (v.server_timestamp ? 0x08 : 0) | (v.source_picoseconds ? 0x10 : 0) |
                      (v.server_picoseconds ? 0x20 : 0);
  e.u8(mask);
  if (v.value) encode(e, *v.value);
  if (v.status) encode(e, *v.status);
  if (v.source_timestamp) encode(e, *v.source_timestamp);
  if (v.source_picoseconds) e.u16(*v.source_picoseconds);
  if (v.server_timestamp) encode(e, *v.server_timestamp);
  if (v.server_picoseconds) e.u16(*v.server_picoseconds);
}

// ---- decode -----------------------------------------------------------------------------

bool decode(Decoder& d, bool& v) {
  std::uint8_t b = 0;
  if (!d.u8(b)) return false;
  v = b != 0;
  return true;
}
bool decode(Decoder& d, std::int8_t& v) { return d.raw(&v, 1); }
bool decode(Decoder& d, std::uint8_t& v) { return d.raw(&v, 1); }
bool decode(Decoder& d, std::int16_t& v) { return d.raw(&v, 2); }
bool decode(Decoder& d, std::uint16_t& v) { return d.raw(&v, 2); }
bool decode(Decoder& d, std::int32_t& v) { return d.raw(&v, 4); }
bool decode(Decoder& d, std::uint32_t& v) { return d.raw(&v, 4); }
bool decode(Decoder& d, std::int64_t& v) { return d.raw(&v, 8); }
bool decode(Decoder& d, std::uint64_t& v) { return d.raw(&v, 8); }
bool decode(Decoder& d, float& v) { return d.raw(&v, 4); }
bool decode(Decoder& d, double& v) { return d.raw(&v, 8); }

static bool decode_opt_bytes(Decoder& d, std::optional<std::string>& v, const char* what, bool utf8) {
  std::int32_t n = 0;
  if (!d.i32(n)) return false;
  if (n == -1) {
    v.reset();
    return true;
  }
  if (n < 0) return d.fail(std::string("negative ") + what + " length " + std::to_string(n));
  if (n > d.limits().max_string_length) {
    return d.fail(std::string(what) + " length " + std::to_string(n) + " exceeds the limit " +
                  std::to_string(d.limits().max_string_length));
  }
  v.emplace();
  if (!d.take(static_cast<std::size_t>(n), *v)) return false;
  if (utf8 && !is_valid_utf8(*v)) return d.fail(std::string(what) + " is not valid UTF-8");
  return true;
}
bool decode(Decoder& d, String& v) { return decode_opt_bytes(d, v, "String", true); }
bool decode(Decoder& d, ByteString& v) { return decode_opt_bytes(d, v.data, "ByteString", false); }
bool decode(Decoder& d, XmlElement& v) { return decode_opt_bytes(d, v.data, "XmlElement", true); }
bool decode(Decoder& d, DateTime& v) { return decode(d, v.ticks); }
bool decode(Decoder& d, Guid& v) {
  return d.u32(v.data1) && d.u16(v.data2) && d.u16(v.data3) && d.raw(v.data4.data(), 8);
}
bool decode(Decoder& d, StatusCode& v) { return d.u32(v.code); }

static bool decode_node_id_body(Decoder& d, std::uint8_t form, NodeId& v) {
  switch (form) {
    case 0x00: {
      std::uint8_t i = 0;
      if (!d.u8(i)) return false;
      v = NodeId(0, std::uint32_t{i});
      return true;
    }
    case 0x01: {
      std::uint8_t ns = 0;
      std::uint16_t i = 0;
      if (!d.u8(ns) || !d.u16(i)) return false;
      v = NodeId(ns, std::uint32_t{i});
      return true;
    }
    case 0x02: {
      std::uint16_t ns = 0;
      std::uint32_t i = 0;
      if (!d.u16(ns) || !d.u32(i)) return false;
      v = NodeId(ns, i);
      return true;
    }
    case 0x03: {
      String s;
      if (!d.u16(v.ns) || !decode(d, s)) return false;
      v.id = s.value_or(std::string());
      return true;
    }
    case 0x04: {
      Guid g;
      if (!d.u16(v.ns) || !decode(d, g)) return false;
      v.id = g;
      return true;
    }
    case 0x05: {
      ByteString b;
      if (!d.u16(v.ns) || !decode(d, b)) return false;
      v.id = std::move(b);
      return true;
    }
    default:
      return d.fail("invalid NodeId encoding byte " + std::to_string(form));
  }
}

bool decode(Decoder& d, NodeId& v) {
  std::uint8_t b = 0;
  if (!d.u8(b)) return false;
  if ((b & 0xC0) != 0) return d.fail("NodeId carries ExpandedNodeId flags");
  return decode_node_id_body(d, b, v);
}

bool decode(Decoder& d, ExpandedNodeId& v) {
  std::uint8_t b = 0;
  if (!d.u8(b)) return false;
  if (!decode_node_id_body(d, b & 0x3F, v.node_id)) return false;
  v.namespace_uri.reset();
  v.server_index = 0;
  if ((b & 0x80) != 0 && !decode(d, v.namespace_uri)) return false;
  if ((b & 0x40) != 0 && !d.u32(v.server_index)) return false;
  return true;
}

bool decode(Decoder& d, QualifiedName& v) { return d.u16(v.ns) && decode(d, v.name); }

bool decode(Decoder& d, LocalizedText& v) {
  std::uint8_t mask = 0;
  if (!d.u8(mask)) return false;
  v.locale.reset();
  v.text.reset();
  if ((mask & 0x01) != 0 && !decode(d, v.locale)) return false;
  if ((mask & 0x02) != 0 && !decode(d, v.text)) return false;
  return true;
}

bool decode(Decoder& d, ExtensionObject& v) {
  std::uint8_t enc = 0;
  if (!decode(d, v.type_id) || !d.u8(enc)) return false;
  if (enc > 2) return d.fail("invalid ExtensionObject encoding " + std::to_string(enc));
  v.encoding = static_cast<ExtensionObject::Encoding>(enc);
  v.body.clear();
  if (enc == 0) return true;
  std::int32_t n = 0;
  if (!d.i32(n)) return false;
  if (n == -1) return true;
  if (n < 0) return d.fail("negative ExtensionObject length " + std::to_string(n));
  if (n > d.limits().max_string_length) return d.fail("ExtensionObject length " + std::to_string(n) + " exceeds the limit");
  return d.take(static_cast<std::size_t>(n), v.body);
}

bool decode(Decoder& d, DiagnosticInfo& v) {
  if (!d.enter()) return false;
  std::uint8_t mask = 0;
  v = DiagnosticInfo{};
  bool ok = d.u8(mask);
  auto opt_i32 = [&](std::uint8_t bit, std::optional<std::int32_t>& f) {
    if (ok && (mask & bit) != 0) {
      f.emplace();
      ok = d.i32(*f);
    }
  };
  opt_i32(0x01, v.symbolic_id);
  opt_i32(0x02, v.namespace_uri);
  opt_i32(0x08, v.locale);
  opt_i32(0x04, v.localized_text);
  if (ok && (mask & 0x10) != 0) ok = decode(d, v.additional_info);
  if (ok && (mask & 0x20) != 0) {
    v.inner_status_code.emplace();
    ok = decode(d, *v.inner_status_code);
  }
  if (ok && (mask & 0x40) != 0) {
    v.inner.emplace();
    ok = decode(d, **v.inner);
  }
  d.leave();
  return ok;
}

template <typename T>
static bool decode_into(Decoder& d, Variant::Scalar& s) {
  T x{};
  if (!decode(d, x)) return false;
  s = std::move(x);
  return true;
}
template <typename T>
static bool decode_boxed(Decoder& d, Variant::Scalar& s) {
  Box<T> x;
  if (!decode(d, *x)) return false;
  s = std::move(x);
  return true;
}

static bool decode_scalar(Decoder& d, BuiltinType t, Variant::Scalar& s) {
  switch (t) {
    case BuiltinType::kNull: s = std::monostate{}; return true;
    case BuiltinType::kBoolean: return decode_into<bool>(d, s);
    case BuiltinType::kSByte: return decode_into<std::int8_t>(d, s);
    case BuiltinType::kByte: return decode_into<std::uint8_t>(d, s);
    case BuiltinType::kInt16: return decode_into<std::int16_t>(d, s);
    case BuiltinType::kUInt16: return decode_into<std::uint16_t>(d, s);
    case BuiltinType::kInt32: return decode_into<std::int32_t>(d, s);
    case BuiltinType::kUInt32: return decode_into<std::uint32_t>(d, s);
    case BuiltinType::kInt64: return decode_into<std::int64_t>(d, s);
    case BuiltinType::kUInt64: return decode_into<std::uint64_t>(d, s);
    case BuiltinType::kFloat: return decode_into<float>(d, s);
    case BuiltinType::kDouble: return decode_into<double>(d, s);
    case BuiltinType::kString: return decode_into<String>(d, s);
    case BuiltinType::kDateTime: return decode_into<DateTime>(d, s);
    case BuiltinType::kGuid: return decode_into<Guid>(d, s);
    case BuiltinType::kByteString: return decode_into<ByteString>(d, s);
    case BuiltinType::kXmlElement: return decode_into<XmlElement>(d, s);
    case BuiltinType::kNodeId: return decode_into<NodeId>(d, s);
    case BuiltinType::kExpandedNodeId: return decode_into<ExpandedNodeId>(d, s);
    case BuiltinType::kStatusCode: return decode_into<StatusCode>(d, s);
    case BuiltinType::kQualifiedName: return decode_into<QualifiedName>(d, s);
    case BuiltinType::kLocalizedText: return decode_into<LocalizedText>(d, s);
    case BuiltinType::kExtensionObject: return decode_into<ExtensionObject>(d, s);
    case BuiltinType::kDataValue: return decode_boxed<DataValue>(d, s);
    case BuiltinType::kVariant: return decode_boxed<Variant>(d, s);
    case BuiltinType::kDiagnosticInfo: return decode_boxed<DiagnosticInfo>(d, s);
  }
  return d.fail("unknown built-in type");
}

bool decode(Decoder& d, Variant& v) {
  std::uint8_t mask = 0;
  if (!d.u8(mask)) return false;
  v = Variant{};
  std::uint8_t type_id = mask & 0x3F;
  // Ids 26..31 are reserved; Part 6 says to decode them as ByteString.
  if (type_id > 25 && type_id < 32) type_id = static_cast<std::uint8_t>(BuiltinType::kByteString);
  if (type_id > 31) return d.fail("invalid Variant type " + std::to_string(type_id));
  v.type = static_cast<BuiltinType>(type_id);
  if (!d.enter()) return false;
  bool ok = true;
  if ((mask & 0x80) == 0) {
    if ((mask & 0x40) != 0) ok = d.fail("Variant scalar with array dimensions");
    if (ok && v.type == BuiltinType::kVariant) ok = d.fail("Variant holds a Variant scalar");
    if (ok && v.type != BuiltinType::kNull) {
      v.values.emplace_back();
      ok = decode_scalar(d, v.type, v.values.back());
    }
    d.leave();
    return ok;
  }
  v.is_array = true;
  std::int32_t n = 0;
  ok = d.array_length(n, "Variant array");
  if (ok) v.values.reserve(std::min<std::size_t>(static_cast<std::size_t>(n), d.remaining()));
  for (std::int32_t i = 0; ok && i < n; ++i) {
    v.values.emplace_back();
    ok = decode_scalar(d, v.type, v.values.back());
  }
  if (ok && (mask & 0x40) != 0) {
    ok = decode(d, v.dims);
    std::int64_t product = 1;
    for (std::size_t i = 0; ok && i < v.dims.size(); ++i) {
      if (v.dims[i] < 0) {
        ok = d.fail("negative Variant array dimension");
      } else {
        product *= v.dims[i];
        if (product > n) ok = d.fail("Variant array dimensions exceed its length");
      }
    }
    if (ok && (v.dims.empty() || product != n)) ok = d.fail("Variant array dimensions do not match its length");
  }
  d.leave();
  return ok;
}

bool decode(Decoder& d, DataValue& v) {
  if (!d.enter()) return false;
  std::uint8_t mask = 0;
  v = DataValue{};
  bool ok = d.u8(mask);
  if (ok && (mask & 0x01) != 0) {
    v.value.emplace();
    ok = decode(d, *v.value);
  }
  if (ok && (mask & 0x02) != 0) {
    v.status.emplace();
    ok = decode(d, *v.status);
  }
  if (ok && (mask & 0x04) != 0) {
    v.source_timestamp.emplace();
    ok = decode(d, *v.source_timestamp);
  }
  if (ok && (mask & 0x10) != 0) {
    v.source_picoseconds.emplace();
    ok = d.u16(*v.source_picoseconds);
  }
  if (ok && (mask & 0x08) != 0) {
    v.server_timestamp.emplace();
    ok = decode(d, *v.server_timestamp);
  }
  if (ok && (mask & 0x20) != 0) {
    v.server_picoseconds.emplace();
    ok = d.u16(*v.server_picoseconds);
  }
  d.leave();
  return ok;
}

// ---- text form of NodeId ----------------------------------------------------------------

static std::string guid_text(const Guid& g) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", g.data1, g.data2, g.data3,
                g.data4[0], g.data4[1], g.data4[2], g.data4[3], g.data4[4], g.data4[5], g.data4[6], g.data4[7]);
  return buf;
}

std::string to_string(const NodeId& id) {
  std::string out;
  if (id.ns != 0) out = "ns=" + std::to_string(id.ns) + ";";
  switch (id.id.index()) {
    case 0: return out + "i=" + std::to_string(std::get<0>(id.id));
    case 1: return out + "s=" + std::get<1>(id.id);
    case 2: return out + "g=" + guid_text(std::get<2>(id.id));
    default: {
      const auto& b = std::get<3>(id.id).data;
      std::string bytes = b.value_or(std::string());
      return out + "b=" + base64_encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
  }
}

static bool parse_hex(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

static bool base64_decode(std::string_view in, std::string& out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  out.clear();
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

bool parse_node_id(std::string_view text, NodeId& out) {
  out = NodeId();
  if (text.starts_with("ns=")) {
    auto semi = text.find(';');
    if (semi == std::string_view::npos) return false;
    unsigned ns = 0;
    auto r = std::from_chars(text.data() + 3, text.data() + semi, ns);
    if (r.ec != std::errc() || r.ptr != text.data() + semi || ns > 0xFFFF) return false;
    out.ns = static_cast<std::uint16_t>(ns);
    text.remove_prefix(semi + 1);
  }
  if (text.size() < 2 || text[1] != '=') return false;
  std::string_view v = text.substr(2);
  switch (text[0]) {
    case 'i': {
      std::uint32_t i = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), i);
      if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size()) return false;
      out.id = i;
      return true;
    }
    case 's':
      out.id = std::string(v);
      return true;
    case 'g': {
      // 8-4-4-4-12 hex digits
      if (v.size() != 36 || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-') return false;
      Guid g;
      std::uint64_t x = 0;
      if (!parse_hex(v.substr(0, 8), x)) return false;
      g.data1 = static_cast<std::uint32_t>(x);
      if (!parse_hex(v.substr(9, 4), x)) return false;
      g.data2 = static_cast<std::uint16_t>(x);
      if (!parse_hex(v.substr(14, 4), x)) return false;
      g.data3 = static_cast<std::uint16_t>(x);
      std::string rest = std::string(v.substr(19, 4)) + std::string(v.substr(24, 12));
      for (std::size_t i = 0; i < 8; ++i) {
        if (!parse_hex(std::string_view(rest).substr(i * 2, 2), x)) return false;
        g.data4[i] = static_cast<std::uint8_t>(x);
      }
      out.id = g;
      return true;
    }
    case 'b': {
      std::string bytes;
      if (!base64_decode(v, bytes)) return false;
      out.id = ByteString{std::move(bytes)};
      return true;
    }
    default:
      return false;
  }
}

}  // namespace uc::opcua
