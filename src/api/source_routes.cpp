#include "api/source_routes.h"

namespace uc::api {
namespace {

using SpoolMode = SourceControl::SpoolMode;

// The body as a JSON object's text, or the 400 to answer.
std::optional<Response> check_object(const Request& req, std::string* text) {
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return Response::error(400, "malformed_json", req.body.empty() ? "a JSON object is required" : "malformed JSON");
  }
  if (!body.is_object()) return Response::error(400, "malformed_json", "the body must be a JSON object");
  *text = dump_json(body);
  return std::nullopt;
}

Response change_response(const SourceControl::Change& change, int ok_status) {
  if (!change.errors.empty()) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : change.errors) errors.push_back({{"pointer", e.pointer}, {"message", e.message}});
    const std::string first = change.errors.front().pointer + ": " + change.errors.front().message;
    return Response::error(400, "invalid_source", "invalid source (" + first + ")", {{"errors", errors}});
  }
  if (!change.status.is_ok()) return Response::from_status(change.status);
  return Response::json(change.view, ok_status);
}

Response result_response(const Result<nlohmann::json>& r) {
  if (!r.is_ok()) return Response::from_status(r.status());
  return Response::json(*r);
}

Response remove(SourceControl& control, const Request& req) {
  const std::string spool = req.query_value("spool").value_or("keep");
  if (spool != "keep" && spool != "drain") {
    return Response::error(400, "invalid_query", "spool must be keep or drain, got \"" + spool + "\"");
  }
  return result_response(control.remove(req.path_param("name"), spool == "drain" ? SpoolMode::kDrain : SpoolMode::kKeep));
}

Response add(SourceControl& control, const Request& req) {
  std::string entry;
  if (auto bad = check_object(req, &entry)) return *bad;
  return change_response(control.add(entry), 201);
}

Response replace(SourceControl& control, const Request& req) {
  std::string entry;
  if (auto bad = check_object(req, &entry)) return *bad;
  return change_response(control.replace(req.path_param("name"), entry), 200);
}

Response get_one(const SourceControl& control, const Request& req) {
  auto view = control.get(req.path_param("name"));
  if (!view) return Response::error(404, "not_found", "no source named \"" + req.path_param("name") + "\"");
  return Response::json(*view);
}

}  // namespace

Status add_source_routes(ApiServer& server, SourceControl& control) {
  SourceControl* c = &control;
  struct Route {
    const char* method;
    const char* pattern;
    Handler handler;
    const char* summary;
  };
  const Route routes[] = {
      {"GET", "/api/sources", [c](const Request&) { return Response::json({{"sources", c->list()}}); },
       "Every configured source: state, last error, counters, configuration (secrets masked)"},
      {"POST", "/api/sources", [c](const Request& r) { return add(*c, r); },
       "Add a source (body: one `sources:` entry as JSON) and start it"},
      {"GET", "/api/sources/{name}", [c](const Request& r) { return get_one(*c, r); }, "One source"},
      {"PUT", "/api/sources/{name}", [c](const Request& r) { return replace(*c, r); },
       "Replace a source's configuration; it keeps its counters, spool and acks"},
      {"DELETE", "/api/sources/{name}", [c](const Request& r) { return remove(*c, r); },
       "Stop and remove a source (?spool=keep|drain)"},
      {"POST", "/api/sources/{name}/start", [c](const Request& r) { return result_response(c->start(r.path_param("name"))); },
       "Start a stopped source"},
      {"POST", "/api/sources/{name}/stop", [c](const Request& r) { return result_response(c->stop(r.path_param("name"))); },
       "Stop a source (it stays configured)"},
  };
  for (const auto& r : routes) {
    if (Status s = server.add_route(r.method, r.pattern, r.handler, r.summary); !s.is_ok()) return s;
  }
  return Status::ok();
}

}  // namespace uc::api
