#include "api/connector_routes.h"

#include "api/tag_routes.h"

#include <optional>

namespace uc::api {
namespace {

// One lane's DLQ as GET /api/dlq lists it; nullopt (and *error set) when it cannot be read.
std::optional<nlohmann::json> lane_dlq(const pipeline::Lane& lane, std::size_t offset, std::size_t limit,
                                       std::string* error) {
  nlohmann::json t = {{"target", lane.target()}, {"sink", lane.sink().name()}};
  if (lane.dlq() == nullptr) {
    t["messages"] = 0;
    t["entries"] = nlohmann::json::array();
    return t;
  }
  t["messages"] = lane.dlq()->count();
  t["path"] = lane.dlq()->path();
  auto entries = lane.dlq()->list(offset, limit);
  if (!entries.is_ok()) {
    *error = entries.status().message();
    return std::nullopt;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : *entries) {
    nlohmann::json record = nlohmann::json::parse(e.record_json, nullptr, false);
    list.push_back(
        {{"time_us", e.time_us}, {"reason", e.reason}, {"record", record.is_discarded() ? nlohmann::json() : record}});
  }
  t["entries"] = std::move(list);
  return t;
}

Response list_dlq(const pipeline::Pipeline& pipeline, const Request& req) {
  std::string error;
  auto offset = query_size(req, "offset", 0, 1'000'000'000, &error);
  auto limit = query_size(req, "limit", 100, 10'000, &error);
  if (!offset || !limit) return Response::error(400, "invalid_query", error);
  const std::string target = req.query_value("target").value_or("");
  nlohmann::json targets = nlohmann::json::array();
  bool found = target.empty();
  for (const pipeline::Lane* lane : pipeline.lanes()) {
    if (!target.empty() && lane->target() != target) continue;
    found = true;
    auto t = lane_dlq(*lane, *offset, *limit, &error);
    if (!t) return Response::error(500, error);
    targets.push_back(std::move(*t));
  }
  if (!found) return Response::error(404, "unknown_target", "no target named \"" + target + "\"");
  return Response::json({{"targets", targets}});
}

Response replay_dlq(pipeline::Pipeline& pipeline, const Request& req) {
  std::string target;
  if (!req.body.empty()) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return Response::error(400, "malformed_json", "body must be a JSON object");
    for (const auto& [k, v] : body.items()) {
      if (k != "target") return Response::error(400, "unknown_field", "unknown key \"" + k + "\"");
      if (!v.is_string()) return Response::error(400, "wrong_type", "target must be a string");
      target = v.get<std::string>();
    }
  }
  auto n = pipeline.replay_dlq(target);
  if (!n.is_ok()) {
    if (n.status().code() == StatusCode::kNotFound) return Response::error(404, "unknown_target", n.status().message());
    return Response::error(503, "replay_failed", n.status().message());
  }
  return Response::json({{"replayed", *n}});
}

Response diagnostics(const pipeline::Pipeline& pipeline, const SinkKind& kind, const Request& req) {
  if (kind.set == nullptr) return Response::error(409, "not_enabled", kind.name + " is not enabled");
  auto targets = kind.set->diagnose(req.query_value("target").value_or(""));
  if (!targets.is_ok()) {
    return Response::from_status(targets.status());
  }
  bool ok = true;
  for (const auto& t : *targets) ok = ok && t.value("ok", false);
  return Response::json({{"ok", ok}, {"delivery", pipeline.delivery_state(kind.name)}, {"targets", *targets}});
}

}  // namespace

Status add_connector_routes(ApiServer& server, const ConnectorView& view) {
  pipeline::Pipeline* p = view.pipeline;
  Status s = server.add_route(
      "GET", "/api/dlq", [p](const Request& req) { return list_dlq(*p, req); },
      "Dead-letter queue per target (?target, offset, limit)");
  if (!s.is_ok()) return s;
  s = server.add_route(
      "POST", "/api/dlq/replay", [p](const Request& req) { return replay_dlq(*p, req); },
      "Replay one target's DLQ (body {\"target\": T}) or every target's");
  if (!s.is_ok()) return s;
  s = add_tag_routes(server, p->latest_values(), p->clock());
  if (!s.is_ok()) return s;
  for (const SinkKind& kind : view.sinks) {
    if (!kind.has_diagnostics) continue;
    s = server.add_route("GET", "/api/" + kind.name + "/diagnostics",
                         [p, kind](const Request& req) { return diagnostics(*p, kind, req); },
                         "Per-target checks of the " + kind.name + " sink (?target)");
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

}  // namespace uc::api
