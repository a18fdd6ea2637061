// The live source routes of SPEC §9 (issue 14). A source's view is
//   {"name", "protocol", "enabled", "state", "last_error", "targets", "counters": {...},
//    "config": the entry as written, secrets "***"}
//
//   GET    /api/sources                     {"sources": [view, ...]}, in configuration order
//   GET    /api/sources/{name}              view
//   POST   /api/sources                     body: one source entry, the keys of a YAML `sources:`
//                                           item, as JSON → 201 view; it starts at once
//   PUT    /api/sources/{name}              full replacement (same body) → 200 view; keeps the
//                                           source's counters, targets, spool and acks
//   DELETE /api/sources/{name}?spool=keep|drain  stops and removes it → 200
//                                           {"removed", "spool", "drained"}; see SourceControl
//   POST   /api/sources/{name}/start|stop   → 200 view
//   POST   /api/sources/{name}/test?max_records=N&timeout_ms=T
//                                           a one-shot read, as the `read` command: the source
//                                           is built again beside the running one, with its own
//                                           connection, and read until N records (default 10,
//                                           1..1000) or T ms (default 5000, 100..30000); nothing
//                                           reaches a sink → 200 {"source", "protocol",
//                                           "records": [normalized records], "count", "complete"
//                                           (N reached), "elapsed_ms", "state", "last_error"}
//   POST   /api/sources/test?...            the same for a body (a source entry not yet added,
//                                           checked like POST /api/sources)
//
// Errors (http.h shape): 400 "malformed_json" (not a JSON object), 400 "invalid_source" with
// details.errors [{"pointer": "/port", "message": the text `validate` prints for the key}],
// 400 "invalid_query" (spool), 404 "not_found", 409 "already_exists" (POST of a taken name),
// 409 "conflict" (a disabled source started, a target without a lane), 501 "not_implemented"
// (a protocol this build cannot run), 503 "unavailable" (the connector is stopping).
// A test also answers 502 "source_error" (the source failed and read nothing; details: the
// test's view with the source's last_error), 504 "timeout" (nothing read within T ms;
// details: the view, with what was tried), 503 "busy" (kMaxConcurrentTests running).
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/api_server.h"
#include "core/status.h"

namespace uc::api {

// A problem with one field of a request body.
struct FieldError {
  std::string pointer;  // RFC 6901, "" for the body as a whole
  std::string message;
};

// What the routes ask of the connector (implemented in app/, which owns the running
// configuration and the pipeline). Called on the API's worker threads, concurrently: the
// implementation serializes changes and answers reads from consistent state.
class SourceControl {
 public:
  virtual ~SourceControl() = default;

  // The outcome of POST/PUT: field errors (400), else status, else the source's view.
  struct Change {
    std::vector<FieldError> errors;
    Status status;
    nlohmann::json view;
  };
  enum class SpoolMode {
    kKeep,   // answer at once; its queued/spooled records are delivered with everything else
    kDrain,  // answer once its records are durable downstream (bounded wait)
  };

  virtual std::vector<nlohmann::json> list() const = 0;
  virtual std::optional<nlohmann::json> get(const std::string& name) const = 0;
  // entry: a JSON object as text.
  virtual Change add(const std::string& entry) = 0;
  virtual Change replace(const std::string& name, const std::string& entry) = 0;
  virtual Result<nlohmann::json> remove(const std::string& name, SpoolMode spool) = 0;
  virtual Result<nlohmann::json> start(const std::string& name) = 0;
  virtual Result<nlohmann::json> stop(const std::string& name) = 0;

  // A one-shot read (the test routes above). Outcome: field errors (a body), else status
  // with the view as details (NOT_FOUND, DEADLINE_EXCEEDED nothing read, UNAVAILABLE the
  // source failed, RESOURCE_EXHAUSTED too many tests at once), else the view. Blocks the
  // calling worker for at most limits.timeout plus the source's stop.
  struct TestLimits {
    std::size_t max_records = 10;
    std::chrono::milliseconds timeout{5000};
  };
  static constexpr std::size_t kMaxTestRecords = 1000;
  static constexpr std::chrono::milliseconds kMaxTestTimeout{30000};
  static constexpr std::size_t kMaxConcurrentTests = 2;
  virtual Change test(const std::string& name, const TestLimits& limits) = 0;
  virtual Change test_entry(const std::string& entry, const TestLimits& limits) = 0;
};

// Adds the routes to a server that is not started yet; control must outlive it.
Status add_source_routes(ApiServer& server, SourceControl& control);

}  // namespace uc::api
