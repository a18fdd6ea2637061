#include "core/record_codec.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/utf8.h"

namespace uc {
namespace {

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void key(std::string& out, const char* k) {
  out += '"';
  out += k;
  out += "\":";
}

void str_field(std::string& out, const char* k, std::string_view v) {
  key(out, k);
  append_json_string(out, v);
  out += ',';
}

// --- protobuf wire format ---------------------------------------------------

void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, static_cast<std::size_t>(n));
}

void put_tag(std::string& out, int field, int wire_type) {
  put_varint(out, (static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire_type));
}

void put_int64(std::string& out, int field, std::int64_t v) {
  put_tag(out, field, 0);
  put_varint(out, static_cast<std::uint64_t>(v));
}

void put_string(std::string& out, int field, std::string_view s) {
  put_tag(out, field, 2);
  put_varint(out, s.size());
  out.append(s.data(), s.size());
}

void put_double(std::string& out, int field, double d) {
  put_tag(out, field, 1);
  char buf[8];
  std::memcpy(buf, &d, 8);  // x86-64 and aarch64 are little-endian, as the wire is
  out.append(buf, 8);
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void put_map_entry(std::string& out, int field, std::string_view k, std::string_view v) {
  std::size_t body = 1 + varint_size(k.size()) + k.size() + 1 + varint_size(v.size()) + v.size();
  put_tag(out, field, 2);
  put_varint(out, body);
  put_string(out, 1, k);
  put_string(out, 2, v);
}

}  // namespace

namespace {

// Bytes copied as they are into a JSON string: printable ASCII except '"' and '\\'.
constexpr std::array<bool, 256> kJsonPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (kJsonPlain[c]) {
      // Copy the run of plain ASCII in one go.
      std::size_t j = i + 1;
      while (j < s.size() && kJsonPlain[static_cast<unsigned char>(s[j])]) ++j;
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
      }
      ++i;
    } else {
      std::size_t len = utf8_sequence_length(s, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
    }
  }
  out += '"';
}

void append_record_json(std::string& out, const Record& r) {
  static const TagInfo kEmpty;
  const TagInfo& t = r.tag ? *r.tag : kEmpty;
  out += '{';
  key(out, "event_time");
  append_int(out, r.event_time);
  out += ',';
  key(out, "ingest_time");
  append_int(out, r.ingest_time);
  out += ',';
  str_field(out, "source_name", t.source_name);
  str_field(out, "protocol", t.protocol);
  str_field(out, "endpoint", t.endpoint);
  str_field(out, "tag_path", t.tag_path);
  str_field(out, "tag_name", t.tag_name);
  str_field(out, "address", t.address);
  str_field(out, "site", t.site);
  str_field(out, "area", t.area);
  str_field(out, "line", t.line);
  str_field(out, "equipment", t.equipment);
  str_field(out, "signal_type", t.signal_type);
  str_field(out, "value_type", value_kind_name(r.value_type));
  key(out, "value_num");
  if (r.value_num && std::isfinite(*r.value_num)) {
    append_double(out, *r.value_num);
  } else {
    out += "null";
  }
  out += ',';
  str_field(out, "value_str", r.value_str);
  key(out, "value_bool");
  out += r.value_bool ? (*r.value_bool ? "true" : "false") : "null";
  out += ',';
  str_field(out, "quality", quality_name(r.quality));
  key(out, "status_code");
  append_int(out, r.status_code);
  out += ',';
  str_field(out, "unit", t.unit);
  key(out, "metadata");
  out += '{';
  bool first = true;
  for (const KeyValues* kvs : {&t.metadata, &r.metadata}) {
    for (const auto& [k, v] : *kvs) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      append_json_string(out, v);
    }
  }
  out += "}}";
}

void append_record_proto(std::string& out, const Record& r) {
  static const TagInfo kEmpty;
  const TagInfo& t = r.tag ? *r.tag : kEmpty;
  put_int64(out, 1, r.event_time);
  put_int64(out, 2, r.ingest_time);
  put_string(out, 3, t.source_name);
  put_string(out, 4, t.protocol);
  put_string(out, 5, t.endpoint);
  put_string(out, 6, t.tag_path);
  put_string(out, 7, t.tag_name);
  put_string(out, 8, t.address);
  put_string(out, 9, t.site);
  put_string(out, 10, t.area);
  put_string(out, 11, t.line);
  put_string(out, 12, t.equipment);
  put_string(out, 13, t.signal_type);
  put_string(out, 14, value_kind_name(r.value_type));
  if (r.value_num) put_double(out, 15, *r.value_num);
  put_string(out, 16, r.value_str);
  if (r.value_bool) {
    put_tag(out, 17, 0);
    out += static_cast<char>(*r.value_bool ? 1 : 0);
  }
  put_string(out, 18, quality_name(r.quality));
  put_int64(out, 19, r.status_code);
  put_string(out, 20, t.unit);
  for (const KeyValues* kvs : {&t.metadata, &r.metadata}) {
    for (const auto& [k, v] : *kvs) put_map_entry(out, 21, k, v);
  }
}

void encode_proto_payloads(const std::vector<Record>& records, std::string& buffer,
                           std::vector<std::string_view>& views) {
  buffer.clear();
  views.clear();
  std::vector<std::size_t> ends;
  ends.reserve(records.size());
  for (const auto& r : records) {
    append_record_proto(buffer, r);
    ends.push_back(buffer.size());
  }
  // Views are taken after the buffer stops growing.
  std::size_t begin = 0;
  for (std::size_t end : ends) {
    views.emplace_back(buffer.data() + begin, end - begin);
    begin = end;
  }
}

namespace {

class WireReader {
 public:
  explicit WireReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}
  bool done() const { return p_ == end_; }

  bool varint(std::uint64_t* v) {
    std::uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) return false;
      auto b = static_cast<std::uint8_t>(*p_++);
      if (shift == 63 && b > 1) return false;  // more than 64 bits
      result |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool fixed64(std::uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  bool bytes(std::string_view* out) {
    std::uint64_t n = 0;
    if (!varint(&n) || n > static_cast<std::uint64_t>(end_ - p_)) return false;
    *out = std::string_view(p_, static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }
  bool skip(int wire_type) {
    std::uint64_t v = 0;
    std::string_view s;
    switch (wire_type) {
      case 0: return varint(&v);
      case 1: return fixed64(&v);
      case 2: return bytes(&s);
      case 5:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default: return false;  // groups (3, 4) and invalid types
    }
  }

 private:
  const char* p_;
  const char* end_;
};

bool parse_value_kind(std::string_view s, ValueKind* out) {
  for (int k = 0; k <= static_cast<int>(ValueKind::kArray); ++k) {
    if (s == value_kind_name(static_cast<ValueKind>(k))) {
      *out = static_cast<ValueKind>(k);
      return true;
    }
  }
  return false;
}

bool parse_quality(std::string_view s, Quality* out) {
  for (Quality q : {Quality::kGood, Quality::kUncertain, Quality::kBad}) {
    if (s == quality_name(q)) {
      *out = q;
      return true;
    }
  }
  return false;
}

Status corrupt(const char* what) { return {StatusCode::kDataLoss, std::string("malformed record: ") + what}; }

}  // namespace

Status RecordDecoder::decode(std::string_view wire, Record& out) {
  // Every field is reset, but the buffers of value_str and of the metadata strings are
  // kept: a caller that decodes into recycled records allocates nothing for them.
  std::string value_str = std::move(out.value_str);
  KeyValues metadata = std::move(out.metadata);
  out = Record{};
  out.value_str = std::move(value_str);
  out.value_str.clear();
  out.metadata = std::move(metadata);
  // The tag strings stay views into `wire` until the interned TagInfo is known: most
  // records belong to a tag seen before, and then no tag string is copied.
  std::string_view tag[kTagFields];
  entries_.clear();
  WireReader r(wire);
  while (!r.done()) {
    std::uint64_t key = 0;
    if (!r.varint(&key)) return corrupt("truncated field key");
    const int field = static_cast<int>(key >> 3);
    const int wire_type = static_cast<int>(key & 7);
    std::uint64_t v = 0;
    std::string_view s;
    auto want = [&](int type) { return wire_type == type; };
    if (field >= 3 && field <= 14 && field != 14 && want(2)) {
      if (!r.bytes(&s)) return corrupt("truncated string");
      tag[field - 3] = s;
      continue;
    }
    switch (field) {
      case 1:
      case 2:
      case 19:
        if (!want(0) || !r.varint(&v)) return corrupt("bad integer field");
        (field == 1 ? out.event_time : field == 2 ? out.ingest_time : out.status_code) =
            static_cast<std::int64_t>(v);
        break;
      case 14:
        if (!want(2) || !r.bytes(&s)) return corrupt("bad value_type");
        if (!parse_value_kind(s, &out.value_type)) return corrupt("unknown value_type");
        break;
      case 15: {
        if (!want(1) || !r.fixed64(&v)) return corrupt("bad value_num");
        double d = 0;
        std::memcpy(&d, &v, 8);
        out.value_num = d;
        break;
      }
      case 16:
        if (!want(2) || !r.bytes(&s)) return corrupt("bad value_str");
        out.value_str.assign(s);
        break;
      case 17:
        if (!want(0) || !r.varint(&v)) return corrupt("bad value_bool");
        out.value_bool = v != 0;
        break;
      case 18:
        if (!want(2) || !r.bytes(&s)) return corrupt("bad quality");
        if (!parse_quality(s, &out.quality)) return corrupt("unknown quality");
        break;
      case 20:
        if (!want(2) || !r.bytes(&s)) return corrupt("bad unit");
        tag[kTagFields - 1] = s;
        break;
      case 21: {
        if (!want(2) || !r.bytes(&s)) return corrupt("bad metadata entry");
        WireReader e(s);
        std::string_view k, val;
        while (!e.done()) {
          std::uint64_t ek = 0;
          if (!e.varint(&ek)) return corrupt("bad metadata entry");
          if ((ek >> 3) == 1 && (ek & 7) == 2) {
            if (!e.bytes(&k)) return corrupt("bad metadata key");
          } else if ((ek >> 3) == 2 && (ek & 7) == 2) {
            if (!e.bytes(&val)) return corrupt("bad metadata value");
          } else if (!e.skip(static_cast<int>(ek & 7))) {
            return corrupt("bad metadata entry");
          }
        }
        entries_.emplace_back(k, val);
        break;
      }
      default:
        if (field == 0 || !r.skip(wire_type)) return corrupt("bad field");
    }
  }
  out.metadata.resize(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    out.metadata[i].first.assign(entries_[i].first);
    out.metadata[i].second.assign(entries_[i].second);
  }
  // Intern the tag part: one TagInfo per distinct set of tag strings. The key is built
  // in a reused buffer, so a known tag costs no allocation.
  id_.clear();
  for (std::string_view f : tag) {
    id_ += f;
    id_ += '\0';
  }
  auto it = tags_.find(id_);
  if (it == tags_.end()) {
    if (tags_.size() >= max_cached_) tags_.clear();
    auto info = std::make_shared<TagInfo>();
    std::string* dst[kTagFields] = {&info->source_name, &info->protocol,  &info->endpoint, &info->tag_path,
                                    &info->tag_name,    &info->address,   &info->site,     &info->area,
                                    &info->line,        &info->equipment, &info->signal_type, &info->unit};
    for (std::size_t i = 0; i < kTagFields; ++i) dst[i]->assign(tag[i]);
    it = tags_.emplace(id_, std::move(info)).first;
  }
  out.tag = it->second;
  return Status::ok();
}

}  // namespace uc
