#include "api/source_routes.h"

#include <charconv>

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

// A query parameter in [min, max]; nullopt (and *error set) when invalid.
std::optional<std::int64_t> query_int(const Request& req, std::string_view name, std::int64_t fallback,
                                      std::int64_t min, std::int64_t max, std::string* error) {
  auto v = req.query_value(name);
  if (!v) return fallback;
  std::int64_t n = 0;
  auto res = std::from_chars(v->data(), v->data() + v->size(), n);
  if (res.ec != std::errc() || res.ptr != v->data() + v->size() || n < min || n > max) {
    *error = std::string(name) + " must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
    return std::nullopt;
  }
  return n;
}

std::optional<SourceControl::TestLimits> test_limits(const Request& req, std::string* error) {
  const SourceControl::TestLimits d;
  auto n = query_int(req, "max_records", static_cast<std::int64_t>(d.max_records), 1,
                     static_cast<std::int64_t>(SourceControl::kMaxTestRecords), error);
  auto t = query_int(req, "timeout_ms", d.timeout.count(), 100, SourceControl::kMaxTestTimeout.count(), error);
  if (!n || !t) return std::nullopt;
  return SourceControl::TestLimits{static_cast<std::size_t>(*n), std::chrono::milliseconds(*t)};
}

Response test_response(const SourceControl::Change& change) {
  if (!change.errors.empty() || change.status.is_ok()) return change_response(change, 200);
  const nlohmann::json details = change.view.is_object() ? change.view : nlohmann::json::object();
  switch (change.status.code()) {
    case StatusCode::kDeadlineExceeded: return Response::error(504, "timeout", change.status.message(), details);
    case StatusCode::kUnavailable: return Response::error(502, "source_error", change.status.message(), details);
    case StatusCode::kResourceExhausted: return Response::error(503, "busy", change.status.message(), details);
    default: return Response::from_status(change.status);
  }
}

Response test_named(SourceControl& control, const Request& req) {
  std::string error;
  auto limits = test_limits(req, &error);
  if (!limits) return Response::error(400, "invalid_query", error);
  return test_response(control.test(req.path_param("name"), *limits));
}

Response test_body(SourceControl& control, const Request& req) {
  std::string error;
  auto limits = test_limits(req, &error);
  if (!limits) return Response::error(400, "invalid_query", error);
  std::string entry;
  if (auto bad = check_object(req, &entry)) return *bad;
  return test_response(control.test_entry(entry, *limits));
}

}  // namespace

Status add_source_routes(ApiServer& server, SourceControl& control) {
  SourceControl* c = &control;
  return server.add_routes({
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
      {"POST", "/api/sources/{name}/test", [c](const Request& r) { return test_named(*c, r); },
       "One-shot read of a configured source (?max_records, timeout_ms); nothing reaches a sink"},
      {"POST", "/api/sources/test", [c](const Request& r) { return test_body(*c, r); },
       "One-shot read of a source entry not yet added (body as POST /api/sources)"},
  });
}

}  // namespace uc::api
