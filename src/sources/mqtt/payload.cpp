#include "sources/mqtt/payload.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <limits>

#include <nlohmann/json.hpp>

namespace uc::sources::mqtt {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;

// nlohmann's parser recurses per nesting level: reject deep documents before parsing.
bool depth_ok(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  bool escape = false;
  for (char c : s) {
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

Value to_value(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return std::monostate{};
    case json::value_t::boolean: return j.get<bool>();
    case json::value_t::number_integer: return j.get<std::int64_t>();
    case json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return static_cast<std::int64_t>(u);
      return u;
    }
    case json::value_t::number_float: return j.get<double>();
    case json::value_t::string: return j.get<std::string>();
    case json::value_t::array: {
      bool scalars = true;
      for (const auto& e : j) scalars = scalars && !e.is_structured();
      if (scalars) {
        Array a;
        a.items.reserve(j.size());
        for (const auto& e : j) {
          Value v = to_value(e);
          std::visit(
              [&](auto&& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, Array>) {
                  a.items.emplace_back(std::monostate{});
                } else {
                  a.items.emplace_back(std::move(x));
                }
              },
              v);
        }
        return a;
      }
      return j.dump();
    }
    default:
      return j.dump();  // objects and nested arrays as JSON text
  }
}

std::optional<TimestampUs> timestamp_of(const json& j) {
  if (j.is_number()) {
    const double d = j.get<double>();
    if (!std::isfinite(d) || d < 0 || d > 9.2e18) return std::nullopt;
    if (d < 1e11) return static_cast<TimestampUs>(d * 1e6);
    if (d < 1e14) return static_cast<TimestampUs>(d * 1e3);
    return static_cast<TimestampUs>(d);
  }
  if (j.is_string()) return parse_timestamp_text(j.get_ref<const std::string&>());
  return std::nullopt;
}

void set_quality(const json& q, Sample& s) {
  s.status.kind = ProtocolStatus::Kind::kTextQuality;
  s.status.text = q.is_string() ? q.get<std::string>() : q.dump();
}

Sample make(std::string_view topic, std::string_view name, Value v, TimestampUs rt) {
  Sample s;
  s.address.assign(topic);
  if (!name.empty()) {
    s.address += '#';
    s.address += name;
  }
  s.value = std::move(v);
  s.receive_time = rt;
  return s;
}

Status point(std::string_view topic, const json& obj, const JsonMapping& m, TimestampUs rt, SampleBatch& out) {
  const auto v = obj.find(m.value_field);
  std::string name;
  if (const auto n = obj.find(m.name_field); n != obj.end() && n->is_string()) name = n->get<std::string>();
  if (v == obj.end()) return invalid_argument("point without \"" + m.value_field + "\" field");
  Sample s = make(topic, name, to_value(*v), rt);
  if (const auto t = obj.find(m.timestamp_field); t != obj.end()) {
    s.source_time = timestamp_of(*t);
    if (!s.source_time) return invalid_argument("invalid \"" + m.timestamp_field + "\" value " + t->dump());
  }
  if (const auto q = obj.find(m.quality_field); q != obj.end()) set_quality(*q, s);
  out.push_back(std::move(s));
  return Status::ok();
}

bool utf8_values_ok(const SampleBatch& b) {
  for (const auto& s : b) {
    if (const auto* str = std::get_if<std::string>(&s.value); str && !is_valid_utf8(*str)) return false;
  }
  return true;
}

int two(std::string_view s, std::size_t i) {
  if (i + 2 > s.size() || s[i] < '0' || s[i] > '9' || s[i + 1] < '0' || s[i + 1] > '9') return -1;
  return (s[i] - '0') * 10 + (s[i + 1] - '0');
}

}  // namespace

std::optional<TimestampUs> parse_timestamp_text(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' ||
      t[16] != ':') {
    return std::nullopt;
  }
  const int y1 = two(t, 0), y2 = two(t, 2), mo = two(t, 5), d = two(t, 8), h = two(t, 11), mi = two(t, 14),
            se = two(t, 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::int64_t frac_us = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    std::int64_t scale = 100000;
    const std::size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      frac_us += (t[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const int oh = two(t, i + 1), om = two(t, i + 4);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (t[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  // days from civil (Howard Hinnant's algorithm)
  const int year = y1 * 100 + y2;
  const int yy = year - (mo <= 2 ? 1 : 0);
  const int era = yy / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + doe - 719468;
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  return secs * 1'000'000 + frac_us;
}

namespace {
Result<SampleBatch> map_json_impl(std::string_view topic, std::string_view payload, const JsonMapping& m,
                                  TimestampUs rt);
}  // namespace

// nlohmann/json reports some problems (a pointer into a mismatched structure) by
// throwing; they stay inside this adapter.
Result<SampleBatch> map_json(std::string_view topic, std::string_view payload, const JsonMapping& m,
                             TimestampUs rt) {
  try {
    return map_json_impl(topic, payload, m, rt);
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("JSON: ") + e.what());
  }
}

namespace {
Result<SampleBatch> map_json_impl(std::string_view topic, std::string_view payload, const JsonMapping& m,
                                  TimestampUs rt) {
  if (payload.size() > m.max_payload) {
    return Status(StatusCode::kResourceExhausted, "payload of " + std::to_string(payload.size()) +
                                                      " bytes exceeds " + std::to_string(m.max_payload));
  }
  if (!is_valid_utf8(topic)) return invalid_argument("topic is not valid UTF-8");
  if (!depth_ok(payload)) return invalid_argument("JSON nested deeper than 64 levels");
  const json doc = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (doc.is_discarded()) return invalid_argument("invalid JSON");
  SampleBatch out;
  if (!m.tags.empty()) {
    for (const JsonTag& tag : m.tags) {
      const json::json_pointer ptr(tag.pointer);  // validated at config load
      if (!doc.contains(ptr)) continue;
      const json& v = doc.at(ptr);
      if (v.is_object() && v.contains(m.value_field)) {
        SampleBatch one;
        if (Status st = point(topic, v, m, rt, one); !st.is_ok()) return st;
        one.front().address = std::string(topic) + "#" + tag.name;
        out.push_back(std::move(one.front()));
      } else {
        out.push_back(make(topic, tag.name, to_value(v), rt));
      }
    }
    if (out.empty()) return invalid_argument("none of the configured JSON pointers is in the payload");
  } else if (doc.is_array()) {
    if (doc.size() > m.max_points) return Status(StatusCode::kResourceExhausted, "more than " + std::to_string(m.max_points) + " points");
    out.reserve(doc.size());
    for (const json& e : doc) {
      if (e.is_object()) {
        if (Status st = point(topic, e, m, rt, out); !st.is_ok()) return st;
      } else {
        out.push_back(make(topic, "", to_value(e), rt));
      }
    }
  } else if (doc.is_object() && doc.contains(m.value_field)) {
    if (Status st = point(topic, doc, m, rt, out); !st.is_ok()) return st;
  } else if (doc.is_object()) {
    if (doc.size() > m.max_points) return Status(StatusCode::kResourceExhausted, "more than " + std::to_string(m.max_points) + " members");
    for (const auto& [key, v] : doc.items()) out.push_back(make(topic, key, to_value(v), rt));
  } else {
    out.push_back(make(topic, "", to_value(doc), rt));
  }
  if (out.empty()) return invalid_argument("no values in the payload");
  for (auto& s : out) {
    if (!is_valid_utf8(s.address)) return invalid_argument("member name is not valid UTF-8");
  }
  if (!utf8_values_ok(out)) return invalid_argument("string value is not valid UTF-8");
  return out;
}
}  // namespace

Result<SampleBatch> map_text(std::string_view topic, std::string_view payload, TimestampUs rt) {
  if (!is_valid_utf8(topic)) return invalid_argument("topic is not valid UTF-8");
  std::string_view t = payload;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t' || t.front() == '\r' || t.front() == '\n')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n')) t.remove_suffix(1);
  Value v;
  std::int64_t i = 0;
  double d = 0;
  if (auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), i); !t.empty() && ec == std::errc() && p == t.data() + t.size()) {
    v = i;
  } else if (auto [p2, ec2] = std::from_chars(t.data(), t.data() + t.size(), d);
             !t.empty() && ec2 == std::errc() && p2 == t.data() + t.size() && std::isfinite(d)) {
    v = d;
  } else if (t == "true" || t == "false") {
    v = t == "true";
  } else {
    if (!is_valid_utf8(payload)) return invalid_argument("text payload is not valid UTF-8");
    v = std::string(t);
  }
  SampleBatch out;
  out.push_back(make(topic, "", std::move(v), rt));
  return out;
}

}  // namespace uc::sources::mqtt
