#include "core/value.h"

#include <charconv>
#include <cmath>

namespace uc {

const char* value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNull: return "null";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "int64";
    case ValueKind::kUInt: return "uint64";
    case ValueKind::kDouble: return "double";
    case ValueKind::kString: return "string";
    case ValueKind::kBytes: return "bytes";
    case ValueKind::kArray: return "array";
  }
  return "null";
}

void append_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, res.ptr);
}

std::string base64_encode(const std::uint8_t* data, std::size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < size; i += 3) {
    std::uint32_t n = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < size) {
    std::uint32_t n = std::uint32_t{data[i]} << 16;
    if (i + 1 < size) n |= std::uint32_t{data[i + 1]} << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

template <typename Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

struct ScalarText {
  std::string& out;
  bool quote_strings;
  void operator()(std::monostate) const { out += quote_strings ? "null" : ""; }
  void operator()(bool b) const { out += b ? "true" : "false"; }
  void operator()(std::int64_t v) const { append_int(out, v); }
  void operator()(std::uint64_t v) const { append_int(out, v); }
  void operator()(double v) const {
    if (quote_strings && !std::isfinite(v)) {
      out += "null";
    } else {
      append_double(out, v);
    }
  }
  void operator()(const std::string& s) const {
    if (quote_strings) {
      append_json_string(out, s);
    } else {
      out += s;
    }
  }
  void operator()(const Bytes& b) const {
    std::string enc = base64_encode(b.data.data(), b.data.size());
    if (quote_strings) {
      append_json_string(out, enc);
    } else {
      out += enc;
    }
  }
};

}  // namespace

std::string scalar_to_text(const Scalar& s) {
  std::string out;
  std::visit(ScalarText{out, false}, s);
  return out;
}

std::string value_to_text(const Value& v) {
  std::string out;
  switch (kind_of(v)) {
    case ValueKind::kNull: break;
    case ValueKind::kBool: ScalarText{out, false}(std::get<bool>(v)); break;
    case ValueKind::kInt: ScalarText{out, false}(std::get<std::int64_t>(v)); break;
    case ValueKind::kUInt: ScalarText{out, false}(std::get<std::uint64_t>(v)); break;
    case ValueKind::kDouble: ScalarText{out, false}(std::get<double>(v)); break;
    case ValueKind::kString: out = std::get<std::string>(v); break;
    case ValueKind::kBytes: ScalarText{out, false}(std::get<Bytes>(v)); break;
    case ValueKind::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : std::get<Array>(v).items) {
        if (!first) out += ',';
        first = false;
        std::visit(ScalarText{out, true}, item);
      }
      out += ']';
      break;
    }
  }
  return out;
}

bool value_to_double(const Value& v, double* out) {
  switch (kind_of(v)) {
    case ValueKind::kBool: *out = std::get<bool>(v) ? 1.0 : 0.0; return true;
    case ValueKind::kInt: *out = static_cast<double>(std::get<std::int64_t>(v)); return true;
    case ValueKind::kUInt: *out = static_cast<double>(std::get<std::uint64_t>(v)); return true;
    case ValueKind::kDouble: *out = std::get<double>(v); return true;
    default: return false;
  }
}

}  // namespace uc
