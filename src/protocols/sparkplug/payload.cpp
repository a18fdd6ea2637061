#include "protocols/sparkplug/payload.h"

#include <cstring>
#include <limits>

#include "core/utf8.h"

namespace uc::protocols::sparkplug {
namespace {

// Protobuf wire types.
constexpr int kVarint = 0;
constexpr int kFixed64 = 1;
constexpr int kLen = 2;
constexpr int kFixed32 = 5;

class Reader {
 public:
  Reader(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  bool done() const { return i_ >= n_; }

  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i_ >= n_) return false;
      const std::uint8_t b = p_[i_++];
      if (shift == 63 && (b & 0x7e) != 0) return false;  // more than 64 bits
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool fixed32(std::uint32_t& v) {
    if (n_ - i_ < 4) return false;
    v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | p_[i_ + static_cast<std::size_t>(k)];
    i_ += 4;
    return true;
  }
  bool fixed64(std::uint64_t& v) {
    if (n_ - i_ < 8) return false;
    v = 0;
    for (int k = 7; k >= 0; --k) v = (v << 8) | p_[i_ + static_cast<std::size_t>(k)];
    i_ += 8;
    return true;
  }
  bool bytes(const std::uint8_t*& data, std::size_t& size) {
    std::uint64_t len = 0;
    if (!varint(len) || len > n_ - i_) return false;
    data = p_ + i_;
    size = static_cast<std::size_t>(len);
    i_ += size;
    return true;
  }
  bool string(std::string& s) {
    const std::uint8_t* d = nullptr;
    std::size_t n = 0;
    if (!bytes(d, n)) return false;
    s.assign(reinterpret_cast<const char*>(d), n);
    return true;
  }
  // Reads a field key; false at a malformed key.
  bool key(std::uint32_t& field, int& wire) {
    std::uint64_t k = 0;
    if (!varint(k) || k > 0xffffffffu) return false;
    field = static_cast<std::uint32_t>(k >> 3);
    wire = static_cast<int>(k & 7);
    return field != 0;
  }
  bool skip(int wire) {
    std::uint64_t v = 0;
    std::uint32_t f32 = 0;
    const std::uint8_t* d = nullptr;
    std::size_t n = 0;
    switch (wire) {
      case kVarint: return varint(v);
      case kFixed64: return fixed64(v);
      case kLen: return bytes(d, n);
      case kFixed32: return fixed32(f32);
      default: return false;  // groups (3, 4) and reserved types are not used by Sparkplug
    }
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t i_ = 0;
};

Status bad(const std::string& what) { return invalid_argument("malformed Sparkplug payload: " + what); }

float as_float(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
double as_double(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// Reads a uint32 field given as a varint; Sparkplug never packs these, but accept a
// packed list for repeated uint32 fields (DataSet.types).
bool expect_wire(int wire, int want) { return wire == want; }

Status decode_dataset_value(const std::uint8_t* d, std::size_t n, Scalar& out) {
  Reader r(d, n);
  out = std::monostate{};
  while (!r.done()) {
    std::uint32_t f = 0;
    int w = 0;
    if (!r.key(f, w)) return bad("DataSetValue key");
    std::uint64_t v = 0;
    std::uint32_t v32 = 0;
    std::string s;
    switch (f) {
      case 1:  // int_value uint32: kept raw, converted with the column type
      case 2:  // long_value
        if (!expect_wire(w, kVarint) || !r.varint(v)) return bad("DataSetValue integer");
        out = v;
        break;
      case 3:
        if (!expect_wire(w, kFixed32) || !r.fixed32(v32)) return bad("DataSetValue float");
        out = static_cast<double>(as_float(v32));
        break;
      case 4:
        if (!expect_wire(w, kFixed64) || !r.fixed64(v)) return bad("DataSetValue double");
        out = as_double(v);
        break;
      case 5:
        if (!expect_wire(w, kVarint) || !r.varint(v)) return bad("DataSetValue boolean");
        out = v != 0;
        break;
      case 6:
        if (!expect_wire(w, kLen) || !r.string(s)) return bad("DataSetValue string");
        out = std::move(s);
        break;
      default:
        if (!r.skip(w)) return bad("DataSetValue field " + std::to_string(f));
    }
  }
  return Status::ok();
}

Status decode_dataset(const std::uint8_t* d, std::size_t n, DataSetData& ds, const Limits& limits) {
  Reader r(d, n);
  std::size_t cells = 0;
  while (!r.done()) {
    std::uint32_t f = 0;
    int w = 0;
    if (!r.key(f, w)) return bad("DataSet key");
    std::uint64_t v = 0;
    const std::uint8_t* sub = nullptr;
    std::size_t sn = 0;
    switch (f) {
      case 1:
        if (!expect_wire(w, kVarint) || !r.varint(ds.num_of_columns)) return bad("DataSet num_of_columns");
        break;
      case 2: {
        std::string s;
        if (!expect_wire(w, kLen) || !r.string(s)) return bad("DataSet column");
        if (ds.columns.size() >= limits.max_dataset_cells) return bad("too many DataSet columns");
        ds.columns.push_back(std::move(s));
        break;
      }
      case 3:
        if (w == kVarint) {
          if (!r.varint(v) || v > 0xffffffffu) return bad("DataSet type");
          if (ds.types.size() >= limits.max_dataset_cells) return bad("too many DataSet types");
          ds.types.push_back(static_cast<std::uint32_t>(v));
        } else if (w == kLen) {  // packed
          if (!r.bytes(sub, sn)) return bad("DataSet types");
          Reader pr(sub, sn);
          while (!pr.done()) {
            if (!pr.varint(v) || v > 0xffffffffu) return bad("DataSet packed type");
            if (ds.types.size() >= limits.max_dataset_cells) return bad("too many DataSet types");
            ds.types.push_back(static_cast<std::uint32_t>(v));
          }
        } else {
          return bad("DataSet types wire type");
        }
        break;
      case 4: {
        if (!expect_wire(w, kLen) || !r.bytes(sub, sn)) return bad("DataSet row");
        std::vector<Scalar> row;
        Reader rr(sub, sn);
        while (!rr.done()) {
          std::uint32_t rf = 0;
          int rw = 0;
          if (!rr.key(rf, rw)) return bad("Row key");
          if (rf == 1) {
            const std::uint8_t* e = nullptr;
            std::size_t en = 0;
            if (!expect_wire(rw, kLen) || !rr.bytes(e, en)) return bad("Row element");
            if (++cells > limits.max_dataset_cells) {
              return Status(StatusCode::kResourceExhausted, "DataSet has more than " +
                                                                std::to_string(limits.max_dataset_cells) + " cells");
            }
            Scalar cell;
            if (Status st = decode_dataset_value(e, en, cell); !st.is_ok()) return st;
            row.push_back(std::move(cell));
          } else if (!rr.skip(rw)) {
            return bad("Row field");
          }
        }
        ds.rows.push_back(std::move(row));
        break;
      }
      default:
        if (!r.skip(w)) return bad("DataSet field " + std::to_string(f));
    }
  }
  return Status::ok();
}

// PropertySet: only the "Quality" property is kept.
Status decode_properties(const std::uint8_t* d, std::size_t n, Metric& m) {
  Reader r(d, n);
  std::vector<std::string> keys;
  std::vector<std::optional<std::int64_t>> ints;
  while (!r.done()) {
    std::uint32_t f = 0;
    int w = 0;
    if (!r.key(f, w)) return bad("PropertySet key");
    if (f == 1) {
      std::string k;
      if (!expect_wire(w, kLen) || !r.string(k)) return bad("PropertySet keys");
      if (keys.size() > 10000) return bad("too many properties");
      keys.push_back(std::move(k));
    } else if (f == 2) {
      const std::uint8_t* pv = nullptr;
      std::size_t pn = 0;
      if (!expect_wire(w, kLen) || !r.bytes(pv, pn)) return bad("PropertySet values");
      if (ints.size() > 10000) return bad("too many properties");
      Reader vr(pv, pn);
      std::optional<std::int64_t> iv;
      while (!vr.done()) {
        std::uint32_t vf = 0;
        int vw = 0;
        if (!vr.key(vf, vw)) return bad("PropertyValue key");
        std::uint64_t v = 0;
        if ((vf == 3 || vf == 4) && vw == kVarint) {
          if (!vr.varint(v)) return bad("PropertyValue integer");
          iv = vf == 3 ? static_cast<std::int64_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(v)))
                       : static_cast<std::int64_t>(v);
        } else if (!vr.skip(vw)) {
          return bad("PropertyValue field");
        }
      }
      ints.push_back(iv);
    } else if (!r.skip(w)) {
      return bad("PropertySet field");
    }
  }
  for (std::size_t i = 0; i < keys.size() && i < ints.size(); ++i) {
    if (keys[i] == "Quality" && ints[i]) m.quality = *ints[i];
  }
  return Status::ok();
}

Status decode_metric(const std::uint8_t* d, std::size_t n, Metric& m, const Limits& limits) {
  Reader r(d, n);
  while (!r.done()) {
    std::uint32_t f = 0;
    int w = 0;
    if (!r.key(f, w)) return bad("Metric key");
    std::uint64_t v = 0;
    std::uint32_t v32 = 0;
    const std::uint8_t* sub = nullptr;
    std::size_t sn = 0;
    auto want = [&](int wire) { return w == wire; };
    switch (f) {
      case 1: {
        std::string s;
        if (!want(kLen) || !r.string(s)) return bad("Metric name");
        m.name = std::move(s);
        break;
      }
      case 2:
        if (!want(kVarint) || !r.varint(v)) return bad("Metric alias");
        m.alias = v;
        break;
      case 3:
        if (!want(kVarint) || !r.varint(v)) return bad("Metric timestamp");
        m.timestamp = v;
        break;
      case 4:
        if (!want(kVarint) || !r.varint(v) || v > 0xffffffffu) return bad("Metric datatype");
        m.datatype = static_cast<std::uint32_t>(v);
        break;
      case 5:
      case 6:
      case 7:
        if (!want(kVarint) || !r.varint(v)) return bad("Metric flag");
        (f == 5 ? m.is_historical : f == 6 ? m.is_transient : m.is_null) = v != 0;
        break;
      case 9:
        if (!want(kLen) || !r.bytes(sub, sn)) return bad("Metric properties");
        if (Status st = decode_properties(sub, sn, m); !st.is_ok()) return st;
        break;
      case 10:
        if (!want(kVarint) || !r.varint(v)) return bad("Metric int_value");
        if (v > 0xffffffffu) {
          // protobuf writes a negative int32 sign-extended to 64 bits; keep the low 32.
          if ((v >> 32) != 0xffffffffu) return bad("Metric int_value out of uint32 range");
          v &= 0xffffffffu;
        }
        m.field = ValueField::kInt;
        m.int_bits = v;
        break;
      case 11:
        if (!want(kVarint) || !r.varint(v)) return bad("Metric long_value");
        m.field = ValueField::kLong;
        m.int_bits = v;
        break;
      case 12:
        if (!want(kFixed32) || !r.fixed32(v32)) return bad("Metric float_value");
        m.field = ValueField::kFloat;
        m.float_value = as_float(v32);
        break;
      case 13:
        if (!want(kFixed64) || !r.fixed64(v)) return bad("Metric double_value");
        m.field = ValueField::kDouble;
        m.double_value = as_double(v);
        break;
      case 14:
        if (!want(kVarint) || !r.varint(v)) return bad("Metric boolean_value");
        m.field = ValueField::kBoolean;
        m.bool_value = v != 0;
        break;
      case 15:
      case 16:
        if (!want(kLen) || !r.string(m.bytes)) return bad("Metric string/bytes value");
        m.field = f == 15 ? ValueField::kString : ValueField::kBytes;
        break;
      case 17:
        if (!want(kLen) || !r.bytes(sub, sn)) return bad("Metric dataset_value");
        m.field = ValueField::kDataSet;
        m.dataset = {};
        if (Status st = decode_dataset(sub, sn, m.dataset, limits); !st.is_ok()) return st;
        break;
      case 18:
      case 19:
        if (!want(kLen) || !r.bytes(sub, sn)) return bad("Metric template/extension value");
        m.field = f == 18 ? ValueField::kTemplate : ValueField::kExtension;
        break;
      default:
        if (!r.skip(w)) return bad("Metric field " + std::to_string(f));
    }
  }
  return Status::ok();
}

void json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

Status wrong_field(std::uint32_t datatype) {
  return invalid_argument("value field does not match datatype " + datatype_name(datatype));
}

// Integer types: int_value or long_value; signed types accept the two's-complement
// pattern of their own width or of 32/64 bits.
Result<Value> integer(const Metric& m, std::uint32_t dt) {
  if (m.field != ValueField::kInt && m.field != ValueField::kLong) return wrong_field(dt);
  const std::uint64_t u = m.int_bits;
  auto range = [&]() { return Status(StatusCode::kOutOfRange, std::to_string(u) + " out of range for " + datatype_name(dt)); };
  switch (dt) {
    case kInt8:
    case kInt16:
    case kInt32: {
      const int bits = dt == kInt8 ? 8 : dt == kInt16 ? 16 : 32;
      const std::int64_t lo = -(std::int64_t{1} << (bits - 1));
      const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1;
      std::int64_t s = m.field == ValueField::kInt ? static_cast<std::int32_t>(static_cast<std::uint32_t>(u))
                                                   : static_cast<std::int64_t>(u);
      if (s >= lo && s <= hi) return Value(s);
      if (bits < 32 && s > hi && s < (std::int64_t{1} << bits)) return Value(s - (std::int64_t{1} << bits));
      return range();
    }
    case kInt64:
    case kDateTime:
      return Value(static_cast<std::int64_t>(u));
    case kUInt8:
      if (u > 0xff) return range();
      return Value(static_cast<std::int64_t>(u));
    case kUInt16:
      if (u > 0xffff) return range();
      return Value(static_cast<std::int64_t>(u));
    case kUInt32:
      if (u > 0xffffffffu) return range();
      return Value(static_cast<std::int64_t>(u));
    default:  // kUInt64
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return Value(static_cast<std::int64_t>(u));
      return Value(u);
  }
}

template <typename T>
T le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (std::size_t k = sizeof(T); k-- > 0;) v = (v << 8) | p[k];
  if constexpr (std::is_same_v<T, float>) {
    return as_float(static_cast<std::uint32_t>(v));
  } else if constexpr (std::is_same_v<T, double>) {
    return as_double(v);
  } else {
    return static_cast<T>(v);
  }
}

Result<Value> array(const std::string& b, std::uint32_t dt, const Limits& limits) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(b.data());
  const std::size_t n = b.size();
  Array a;
  auto too_many = [&](std::size_t count) {
    return Status(StatusCode::kResourceExhausted, datatype_name(dt) + " with " + std::to_string(count) +
                                                      " items exceeds " + std::to_string(limits.max_array_items));
  };
  auto fixed = [&](std::size_t width, auto convert) -> Result<Value> {
    if (n % width != 0) return invalid_argument(datatype_name(dt) + " of " + std::to_string(n) + " bytes is not a multiple of " + std::to_string(width));
    if (n / width > limits.max_array_items) return too_many(n / width);
    a.items.reserve(n / width);
    for (std::size_t i = 0; i < n; i += width) a.items.push_back(convert(p + i));
    return Value(std::move(a));
  };
  switch (dt) {
    case kInt8Array: return fixed(1, [](const std::uint8_t* q) { return Scalar(std::int64_t{le<std::int8_t>(q)}); });
    case kInt16Array: return fixed(2, [](const std::uint8_t* q) { return Scalar(std::int64_t{le<std::int16_t>(q)}); });
    case kInt32Array: return fixed(4, [](const std::uint8_t* q) { return Scalar(std::int64_t{le<std::int32_t>(q)}); });
    case kInt64Array:
    case kDateTimeArray:
      return fixed(8, [](const std::uint8_t* q) { return Scalar(le<std::int64_t>(q)); });
    case kUInt8Array: return fixed(1, [](const std::uint8_t* q) { return Scalar(std::int64_t{le<std::uint8_t>(q)}); });
    case kUInt16Array: return fixed(2, [](const std::uint8_t* q) { return Scalar(std::int64_t{le<std::uint16_t>(q)}); });
    case kUInt32Array: return fixed(4, [](const std::uint8_t* q) { return Scalar(std::int64_t{le<std::uint32_t>(q)}); });
    case kUInt64Array:
      return fixed(8, [](const std::uint8_t* q) {
        const auto u = le<std::uint64_t>(q);
        return u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                   ? Scalar(static_cast<std::int64_t>(u))
                   : Scalar(u);
      });
    case kFloatArray: return fixed(4, [](const std::uint8_t* q) { return Scalar(static_cast<double>(le<float>(q))); });
    case kDoubleArray: return fixed(8, [](const std::uint8_t* q) { return Scalar(le<double>(q)); });
    case kBooleanArray: {
      if (n < 4) return invalid_argument("BooleanArray shorter than its 4-byte count");
      const std::uint32_t count = le<std::uint32_t>(p);
      if (count > limits.max_array_items) return too_many(count);
      if ((static_cast<std::size_t>(count) + 7) / 8 != n - 4) {
        return invalid_argument("BooleanArray count " + std::to_string(count) + " does not match " +
                                std::to_string(n - 4) + " bytes of bits");
      }
      a.items.reserve(count);
      for (std::uint32_t i = 0; i < count; ++i) a.items.push_back(((p[4 + i / 8] >> (7 - i % 8)) & 1) != 0);
      return Value(std::move(a));
    }
    default: {  // kStringArray: NUL-terminated strings
      if (n > 0 && b.back() != '\0') return invalid_argument("StringArray not NUL-terminated");
      std::size_t start = 0;
      while (start < n) {
        const std::size_t end = b.find('\0', start);
        if (a.items.size() >= limits.max_array_items) return too_many(a.items.size() + 1);
        std::string s = b.substr(start, end - start);
        if (!uc::is_valid_utf8(s)) return invalid_argument("StringArray item is not valid UTF-8");
        a.items.emplace_back(std::move(s));
        start = end + 1;
      }
      return Value(std::move(a));
    }
  }
}

void append_scalar_json(std::string& out, const Scalar& s) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, std::string>) {
          json_string(out, x);
        } else {
          out += scalar_to_text(s);
        }
      },
      s);
}

Result<Value> dataset_json(const DataSetData& ds) {
  std::string out = "{\"columns\":[";
  for (std::size_t i = 0; i < ds.columns.size(); ++i) {
    if (!uc::is_valid_utf8(ds.columns[i])) return invalid_argument("DataSet column name is not valid UTF-8");
    if (i) out += ',';
    json_string(out, ds.columns[i]);
  }
  out += "],\"types\":[";
  for (std::size_t i = 0; i < ds.types.size(); ++i) {
    if (i) out += ',';
    json_string(out, datatype_name(ds.types[i]));
  }
  out += "],\"rows\":[";
  for (std::size_t r = 0; r < ds.rows.size(); ++r) {
    if (r) out += ',';
    out += '[';
    for (std::size_t c = 0; c < ds.rows[r].size(); ++c) {
      if (c) out += ',';
      Scalar cell = ds.rows[r][c];
      // Integer cells arrive as raw uint64; signed column types get their sign back.
      if (const auto* u = std::get_if<std::uint64_t>(&cell)) {
        const std::uint32_t t = c < ds.types.size() ? ds.types[c] : kUInt64;
        if (t == kInt8 || t == kInt16 || t == kInt32) {
          cell = std::int64_t{static_cast<std::int32_t>(static_cast<std::uint32_t>(*u))};
        } else if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          cell = static_cast<std::int64_t>(*u);
        }
      } else if (const auto* s = std::get_if<std::string>(&cell); s && !uc::is_valid_utf8(*s)) {
        return invalid_argument("DataSet string cell is not valid UTF-8");
      }
      append_scalar_json(out, cell);
    }
    out += ']';
  }
  out += "]}";
  return Value(std::move(out));
}

// --- encoder ---

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_key(std::vector<std::uint8_t>& out, std::uint32_t field, int wire) {
  put_varint(out, (static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire));
}
void put_len(std::vector<std::uint8_t>& out, std::uint32_t field, const void* d, std::size_t n) {
  put_key(out, field, kLen);
  put_varint(out, n);
  const auto* p = static_cast<const std::uint8_t*>(d);
  out.insert(out.end(), p, p + n);
}
void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t width) {
  for (std::size_t k = 0; k < width; ++k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

std::int64_t as_int(const Scalar& s) {
  if (const auto* i = std::get_if<std::int64_t>(&s)) return *i;
  if (const auto* u = std::get_if<std::uint64_t>(&s)) return static_cast<std::int64_t>(*u);
  if (const auto* d = std::get_if<double>(&s)) return static_cast<std::int64_t>(*d);
  if (const auto* b = std::get_if<bool>(&s)) return *b ? 1 : 0;
  return 0;
}
double as_dbl(const Scalar& s) {
  if (const auto* d = std::get_if<double>(&s)) return *d;
  if (const auto* u = std::get_if<std::uint64_t>(&s)) return static_cast<double>(*u);
  return static_cast<double>(as_int(s));
}
Scalar to_scalar(const Value& v) {
  return std::visit(
      [](const auto& x) -> Scalar {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Array>) {
          return std::monostate{};
        } else {
          return x;
        }
      },
      v);
}

std::vector<std::uint8_t> encode_array(const Array& a, std::uint32_t dt) {
  std::vector<std::uint8_t> b;
  std::size_t width = 0;
  switch (dt) {
    case kInt8Array: case kUInt8Array: width = 1; break;
    case kInt16Array: case kUInt16Array: width = 2; break;
    case kInt32Array: case kUInt32Array: case kFloatArray: width = 4; break;
    case kBooleanArray: {
      put_le(b, a.items.size(), 4);
      b.resize(4 + (a.items.size() + 7) / 8, 0);
      for (std::size_t i = 0; i < a.items.size(); ++i) {
        if (as_int(a.items[i]) != 0) b[4 + i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
      }
      return b;
    }
    case kStringArray:
      for (const auto& s : a.items) {
        if (const auto* str = std::get_if<std::string>(&s)) b.insert(b.end(), str->begin(), str->end());
        b.push_back(0);
      }
      return b;
    default: width = 8;
  }
  for (const auto& s : a.items) {
    std::uint64_t bits = 0;
    if (dt == kFloatArray) {
      const float f = static_cast<float>(as_dbl(s));
      std::uint32_t u32;
      std::memcpy(&u32, &f, 4);
      bits = u32;
    } else if (dt == kDoubleArray) {
      const double d = as_dbl(s);
      std::memcpy(&bits, &d, 8);
    } else if (const auto* u = std::get_if<std::uint64_t>(&s)) {
      bits = *u;
    } else {
      bits = static_cast<std::uint64_t>(as_int(s));
    }
    put_le(b, bits, width);
  }
  return b;
}

std::vector<std::uint8_t> encode_metric(const OutMetric& m) {
  std::vector<std::uint8_t> b;
  if (m.name) put_len(b, 1, m.name->data(), m.name->size());
  if (m.alias) { put_key(b, 2, kVarint); put_varint(b, *m.alias); }
  if (m.timestamp) { put_key(b, 3, kVarint); put_varint(b, *m.timestamp); }
  if (m.datatype) { put_key(b, 4, kVarint); put_varint(b, *m.datatype); }
  if (std::holds_alternative<std::monostate>(m.value)) {
    put_key(b, 7, kVarint);
    put_varint(b, 1);
    return b;
  }
  const std::uint32_t dt = m.value_type;
  if (const auto* arr = std::get_if<Array>(&m.value)) {
    const auto bytes = encode_array(*arr, dt);
    put_len(b, 16, bytes.data(), bytes.size());
    return b;
  }
  const Scalar s = to_scalar(m.value);
  switch (dt) {
    case kInt8: case kInt16: case kInt32: case kUInt8: case kUInt16:
      put_key(b, 10, kVarint);
      put_varint(b, static_cast<std::uint32_t>(as_int(s)));
      break;
    case kUInt32: case kInt64: case kUInt64: case kDateTime:
      put_key(b, 11, kVarint);
      if (const auto* u = std::get_if<std::uint64_t>(&s)) put_varint(b, *u);
      else put_varint(b, static_cast<std::uint64_t>(as_int(s)));
      break;
    case kFloat: {
      const float f = static_cast<float>(as_dbl(s));
      std::uint32_t u32;
      std::memcpy(&u32, &f, 4);
      put_key(b, 12, kFixed32);
      put_le(b, u32, 4);
      break;
    }
    case kDouble: {
      const double d = as_dbl(s);
      std::uint64_t u64;
      std::memcpy(&u64, &d, 8);
      put_key(b, 13, kFixed64);
      put_le(b, u64, 8);
      break;
    }
    case kBoolean:
      put_key(b, 14, kVarint);
      put_varint(b, as_int(s) != 0 ? 1 : 0);
      break;
    case kBytes: case kFile:
      if (const auto* by = std::get_if<Bytes>(&s)) put_len(b, 16, by->data.data(), by->data.size());
      break;
    default:  // String, Text, UUID
      if (const auto* str = std::get_if<std::string>(&s)) put_len(b, 15, str->data(), str->size());
      break;
  }
  return b;
}

}  // namespace

std::string datatype_name(std::uint32_t dt) {
  static const char* kNames[] = {"Unknown", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32",
                                 "UInt64", "Float", "Double", "Boolean", "String", "DateTime", "Text", "UUID",
                                 "DataSet", "Bytes", "File", "Template", "PropertySet", "PropertySetList",
                                 "Int8Array", "Int16Array", "Int32Array", "Int64Array", "UInt8Array",
                                 "UInt16Array", "UInt32Array", "UInt64Array", "FloatArray", "DoubleArray",
                                 "BooleanArray", "StringArray", "DateTimeArray"};
  if (dt < sizeof kNames / sizeof kNames[0]) return kNames[dt];
  return "Unknown(" + std::to_string(dt) + ")";
}

Result<Payload> decode_payload(const std::uint8_t* data, std::size_t size, const Limits& limits) {
  Payload p;
  Reader r(data, size);
  while (!r.done()) {
    std::uint32_t f = 0;
    int w = 0;
    if (!r.key(f, w)) return bad("Payload key");
    std::uint64_t v = 0;
    const std::uint8_t* sub = nullptr;
    std::size_t sn = 0;
    switch (f) {
      case 1:
        if (w != kVarint || !r.varint(v)) return bad("Payload timestamp");
        p.timestamp = v;
        break;
      case 2: {
        if (w != kLen || !r.bytes(sub, sn)) return bad("Payload metric");
        if (p.metrics.size() >= limits.max_metrics) {
          return Status(StatusCode::kResourceExhausted, "payload has more than " + std::to_string(limits.max_metrics) + " metrics");
        }
        Metric m;
        if (Status st = decode_metric(sub, sn, m, limits); !st.is_ok()) return st;
        p.metrics.push_back(std::move(m));
        break;
      }
      case 3:
        if (w != kVarint || !r.varint(v)) return bad("Payload seq");
        p.seq = v;
        break;
      case 4: {
        std::string s;
        if (w != kLen || !r.string(s)) return bad("Payload uuid");
        p.uuid = std::move(s);
        break;
      }
      default:
        if (!r.skip(w)) return bad("Payload field " + std::to_string(f));
    }
  }
  return p;
}

Result<Value> metric_value(const Metric& m, std::uint32_t dt, const Limits& limits) {
  if (m.is_null) return Value(std::monostate{});
  switch (dt) {
    case kInt8: case kInt16: case kInt32: case kInt64: case kUInt8: case kUInt16: case kUInt32: case kUInt64:
    case kDateTime:
      return integer(m, dt);
    case kFloat:
      if (m.field != ValueField::kFloat) return wrong_field(dt);
      return Value(static_cast<double>(m.float_value));
    case kDouble:
      if (m.field != ValueField::kDouble) return wrong_field(dt);
      return Value(m.double_value);
    case kBoolean:
      if (m.field != ValueField::kBoolean) return wrong_field(dt);
      return Value(m.bool_value);
    case kString: case kText: case kUUID:
      if (m.field != ValueField::kString) return wrong_field(dt);
      if (!uc::is_valid_utf8(m.bytes)) return invalid_argument(datatype_name(dt) + " value is not valid UTF-8");
      return Value(m.bytes);
    case kBytes: case kFile:
      if (m.field != ValueField::kBytes) return wrong_field(dt);
      return Value(Bytes{std::vector<std::uint8_t>(m.bytes.begin(), m.bytes.end())});
    case kDataSet:
      if (m.field != ValueField::kDataSet) return wrong_field(dt);
      return dataset_json(m.dataset);
    default:
      if (dt >= kInt8Array && dt <= kDateTimeArray) {
        if (m.field != ValueField::kBytes) return wrong_field(dt);
        return array(m.bytes, dt, limits);
      }
      return Status(StatusCode::kUnimplemented, "datatype " + datatype_name(dt) + " is not supported");
  }
}

std::vector<std::uint8_t> encode_payload(const OutPayload& p) {
  std::vector<std::uint8_t> out;
  if (p.timestamp) { put_key(out, 1, kVarint); put_varint(out, *p.timestamp); }
  for (const auto& m : p.metrics) {
    const auto b = encode_metric(m);
    put_len(out, 2, b.data(), b.size());
  }
  if (p.seq) { put_key(out, 3, kVarint); put_varint(out, *p.seq); }
  return out;
}

}  // namespace uc::protocols::sparkplug
