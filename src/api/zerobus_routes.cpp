#include "api/zerobus_routes.h"

namespace uc::api {
namespace {

Response set_config(ZerobusControl& control, const Request& req) {
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return Response::error(400, "malformed_json", req.body.empty() ? "a JSON object is required" : "malformed JSON");
  }
  if (!body.is_object()) return Response::error(400, "malformed_json", "the body must be a JSON object");
  const auto change = control.set_config(body);
  if (!change.errors.empty()) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : change.errors) errors.push_back({{"pointer", e.pointer}, {"message", e.message}});
    const std::string first = change.errors.front().pointer + ": " + change.errors.front().message;
    return Response::error(400, "invalid_config", "invalid zerobus configuration (" + first + ")",
                           {{"errors", errors}});
  }
  if (change.status.code() == StatusCode::kFailedPrecondition) {
    return Response::error(409, "credential_store", change.status.message());
  }
  if (!change.status.is_ok()) return Response::from_status(change.status);
  return Response::json(change.view);
}

Response set_delivery(ZerobusControl& control, bool running) {
  auto r = control.set_delivery(running);
  if (r.is_ok()) return Response::json(*r);
  if (r.status().code() == StatusCode::kFailedPrecondition) {
    return Response::error(409, "not_enabled", r.status().message());
  }
  return Response::from_status(r.status());
}

}  // namespace

Status add_zerobus_routes(ApiServer& server, ZerobusControl& control) {
  ZerobusControl* c = &control;
  return server.add_routes({
      {"GET", "/api/zerobus/config", [c](const Request&) { return Response::json(c->config()); },
       "The zerobus section as configured (client secret masked), delivery state, restart_required"},
      {"POST", "/api/zerobus/config", [c](const Request& r) { return set_config(*c, r); },
       "Change zerobus keys (the secret goes into the credential store); saved, applied at the next start"},
      {"POST", "/api/zerobus/start", [c](const Request&) { return set_delivery(*c, true); },
       "Resume delivery to Zerobus"},
      {"POST", "/api/zerobus/stop", [c](const Request&) { return set_delivery(*c, false); },
       "Pause delivery to Zerobus; records stay in the spool"},
  });
}

}  // namespace uc::api
