// The connector's REST routes beyond the built-in ones of ApiServer (SPEC §9):
//
//   GET  /api/dlq?target=T&offset=N&limit=M   per lane: DLQ count, path and entries
//                                             (limit 0..10000, default 100); 404 unknown target
//   POST /api/dlq/replay  {"target": "T"}?    replays one target's DLQs (every target without
//                                             a body) into its lanes: {"replayed": n}
//   GET  /api/tags, /api/tags/{path...}       latest value per tag path (tag_routes.h)
//   GET  /api/<sink>/diagnostics?target=T     for each sink kind with diagnostics
//                                             (SinkSet::diagnose): {"ok": all ok, "delivery":
//                                             running|stopped (POST /api/<sink>/stop), "targets": [...]};
//                                             409 while the kind is not enabled, 404 unknown target
//
// Handlers run on the server's worker threads and read the pipeline through its
// thread-safe accessors. Everything named here must outlive the server. The next routes
// (the full REST API) are added here, not in app/.
#pragma once

#include <string>
#include <vector>

#include "api/api_server.h"
#include "pipeline/pipeline.h"
#include "pipeline/registration.h"

namespace uc::api {

// A sink kind as the routes see it: set is null while the kind is not enabled.
struct SinkKind {
  std::string name;
  const pipeline::SinkSet* set = nullptr;
  bool has_diagnostics = false;
};

struct ConnectorView {
  pipeline::Pipeline* pipeline = nullptr;
  std::vector<SinkKind> sinks;
};

// Adds the routes to a server that is not started yet.
Status add_connector_routes(ApiServer& server, const ConnectorView& view);

}  // namespace uc::api
