#include "api/tag_routes.h"

#include <charconv>
#include <cmath>
#include <set>
#include <string>

#include "core/time_text.h"
#include "normalize/glob.h"

namespace uc::api {
namespace {

constexpr std::size_t kMaxLimit = 1000;
constexpr std::size_t kMaxOffset = 1'000'000'000;
constexpr std::size_t kMaxPrefixBytes = 1024;

template <typename T>
nlohmann::json integer_or_text(const std::string& text) {
  T n{};
  auto res = std::from_chars(text.data(), text.data() + text.size(), n);
  if (res.ec == std::errc() && res.ptr == text.data() + text.size()) return n;
  return text;
}

// The value in its own JSON type. Integers come from the text form, which keeps all 64
// bits (value_num is a double); non-finite doubles, which JSON cannot hold, as text.
nlohmann::json value_json(const pipeline::TagValue& v) {
  switch (v.value_type) {
    case ValueKind::kNull: return nullptr;
    case ValueKind::kBool: return v.value_bool ? nlohmann::json(*v.value_bool) : nlohmann::json(v.value_str);
    case ValueKind::kInt: return integer_or_text<std::int64_t>(v.value_str);
    case ValueKind::kUInt: return integer_or_text<std::uint64_t>(v.value_str);
    case ValueKind::kDouble:
      if (v.value_num && std::isfinite(*v.value_num)) return *v.value_num;
      return v.value_str;
    case ValueKind::kArray: {
      auto parsed = nlohmann::json::parse(v.value_str, nullptr, false);
      return parsed.is_discarded() ? nlohmann::json(v.value_str) : parsed;
    }
    case ValueKind::kString:
    case ValueKind::kBytes: return v.value_str;
  }
  return v.value_str;
}

Response invalid_query(const std::string& parameter, const std::string& message) {
  return Response::error(400, "invalid_query", message, {{"parameter", parameter}});
}

Response list_tags(const pipeline::LatestValues& table, const Clock& clock, const Request& req) {
  static const std::set<std::string, std::less<>> kKnown = {"source", "prefix", "glob", "offset", "limit"};
  for (const auto& [name, value] : req.query) {
    if (!kKnown.contains(name)) return invalid_query(name, "unknown query parameter \"" + name + "\"");
  }
  pipeline::LatestValues::Query q;
  std::string error;
  auto offset = query_size(req, "offset", 0, kMaxOffset, &error);
  if (!offset) return invalid_query("offset", error);
  auto limit = query_size(req, "limit", 100, kMaxLimit, &error);
  if (!limit) return invalid_query("limit", error);
  q.offset = *offset;
  q.limit = *limit;
  q.source = req.query_value("source").value_or("");
  q.prefix = req.query_value("prefix").value_or("");
  if (q.prefix.size() > kMaxPrefixBytes) {
    return invalid_query("prefix", "prefix is longer than " + std::to_string(kMaxPrefixBytes) + " bytes");
  }
  if (auto glob = req.query_value("glob")) {
    if (Status s = normalize::validate_glob(*glob); !s.is_ok()) return invalid_query("glob", "glob: " + s.message());
    q.glob = *glob;
  }
  const auto page = table.list(q);
  const TimestampUs now = clock.now_us();
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& v : page.tags) tags.push_back(tag_view(v, now));
  return Response::json({{"total", page.total},
                         {"offset", q.offset},
                         {"limit", q.limit},
                         {"tags", std::move(tags)},
                         {"capacity", table.capacity()},
                         {"untracked_updates", table.untracked_updates()}});
}

Response get_tag(const pipeline::LatestValues& table, const Clock& clock, const Request& req) {
  const std::string path = req.path_param("path");
  auto v = table.find(path);
  if (!v) return Response::error(404, "not_found", "no value for tag path \"" + path + "\"", {{"path", path}});
  return Response::json(tag_view(*v, clock.now_us()));
}

}  // namespace

nlohmann::json tag_view(const pipeline::TagValue& v, TimestampUs now_us) {
  nlohmann::json j = {{"path", v.tag->tag_path},
                      {"source", v.tag->source_name},
                      {"value", value_json(v)},
                      {"value_type", value_kind_name(v.value_type)},
                      {"quality", quality_name(v.quality)},
                      {"status_code", v.status_code}};
  if (!v.tag->unit.empty()) j["unit"] = v.tag->unit;
  j["source_time"] = utc_text(v.event_time);
  j["source_time_us"] = v.event_time;
  j["receive_time"] = utc_text(v.ingest_time);
  j["receive_time_us"] = v.ingest_time;
  j["age_ms"] = std::max<TimestampUs>(0, now_us - v.ingest_time) / 1000;
  j["updates"] = v.updates;
  return j;
}

Status add_tag_routes(ApiServer& server, const pipeline::LatestValues& table, const Clock& clock) {
  const pipeline::LatestValues* t = &table;
  const Clock* c = &clock;
  Status s = server.add_route(
      "GET", "/api/tags", [t, c](const Request& req) { return list_tags(*t, *c, req); },
      "Latest value, quality and time per tag path, sorted by path (?source, prefix, glob, offset, limit)");
  if (!s.is_ok()) return s;
  return server.add_route(
      "GET", "/api/tags/{path...}", [t, c](const Request& req) { return get_tag(*t, *c, req); },
      "Latest value of one tag path (the rest of the URL; '/' as is or %2F)");
}

}  // namespace uc::api
