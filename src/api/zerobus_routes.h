// The Zerobus control routes of SPEC §9 (issue 14):
//
//   GET  /api/zerobus/config   {"config": the `zerobus:` section as configured (the managed
//                              file's when the API set it, else the file's), as written, with
//                              auth.client_secret always "***"; "client_secret_set",
//                              "delivery": "running"|"stopped"|"disabled", "restart_required"}
//   POST /api/zerobus/config   body: keys of the `zerobus:` section as JSON, merged into the
//                              configured section (auth merged key by key; null deletes a
//                              key). A plain auth.client_secret goes into the credential store
//                              and the section refers to it as ${credential:NAME}; it is never
//                              echoed or logged. → 200 {"config", "saved", "restart_required",
//                              "credential_stored"}. Sinks are built at start, so a change
//                              takes effect at the next start ("restart_required": true).
//   POST /api/zerobus/start    resume delivery to Zerobus → 200 {"delivery", "targets"}
//   POST /api/zerobus/stop     pause it: the lanes stop calling the sink, their records stay
//                              in the spool (pipeline/lane.h) → 200 {"delivery", "targets"}
//
// Errors (http.h shape): 400 "malformed_json" (not a JSON object), 400 "invalid_config" with
// details.errors [{"pointer": "/auth/client_id", "message": the text `validate` prints}],
// 409 "not_enabled" (start/stop while Zerobus is not enabled in this run), 409
// "credential_store" (the store cannot be unlocked or written: nothing was saved),
// 503 "unavailable" (the connector is stopping or has no managed file).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/api_server.h"
#include "api/source_routes.h"
#include "core/status.h"

namespace uc::api {

// What the routes ask of the connector (implemented in app/). Called on the API's worker
// threads, concurrently: the implementation serializes changes.
class ZerobusControl {
 public:
  virtual ~ZerobusControl() = default;

  // The outcome of POST /api/zerobus/config: field errors (400), else status, else the view.
  struct Change {
    std::vector<FieldError> errors;
    Status status;
    nlohmann::json view;
  };

  virtual nlohmann::json config() const = 0;
  // body: a JSON object (checked by the route).
  virtual Change set_config(const nlohmann::json& body) = 0;
  // kFailedPrecondition when Zerobus is not enabled in this run.
  virtual Result<nlohmann::json> set_delivery(bool running) = 0;
};

// Adds the routes to a server that is not started yet; control must outlive it.
Status add_zerobus_routes(ApiServer& server, ZerobusControl& control);

}  // namespace uc::api
