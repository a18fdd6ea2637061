// The REST API and metrics endpoint (SPEC §9) on our own HTTP/1.1 server (http_server.h,
// ADR 0007).
//
// Threads: start() binds on the caller's thread; the server's loop thread does the
// socket I/O and a pool of `threads` workers runs handlers and providers, concurrently.
// The health routes run on the loop thread, so they answer while every worker is busy.
// stop() closes every connection and joins everything; it is idempotent and the
// destructor calls it.
//
// Built-in endpoints:
//   GET /health       liveness: 200 with the health provider's JSON when its "status"
//                     is "ok", 503 otherwise; {"status":"ok"} without a provider.
//   GET /health/ready readiness, the same with the ready provider (able to do its job:
//                     503 with the reasons when not). Neither health route needs auth.
//   GET /api/status   the status provider's JSON ({} without a provider)
//   GET /api/metrics  MetricsRegistry::to_json()
//   GET /metrics      Prometheus text, Content-Type text/plain; version=0.0.4; charset=utf-8
//   GET /api/openapi.json  OpenAPI 3 document of every route in the table (openapi.h),
//                     generated from the table at request time, so it cannot drift
// Errors are JSON {"error": {"code", "message", "details"}} (http.h): the framing errors
// of http_parser.h (400, 413, 414, 415, 431, 501, 505), 408 for a request not complete
// within request_timeout, 401 missing or wrong bearer token (with WWW-Authenticate), 404
// unknown path, 405 known path with another method (with Allow), 500 handler failure.
// OPTIONS on a known path answers 204 with Allow.
//
// Slow and idle clients: see http_server.h (deadlines per request, caps per client and
// in total, idle connections closed first).
//
// Audit: with audit_log_path, every mutating request is one JSON line there (time, client,
// method, path, status; never a body, query or header).
//
// Auth: with a non-empty auth_token every path except the health routes requires
// "Authorization: Bearer <token>" (compared in constant time), and unknown
// paths answer 401 rather than 404 so routes cannot be probed. Binding a
// non-loopback host without a token is refused unless allow_unauthenticated_remote.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/audit_log.h"
#include "api/http.h"
#include "api/http_server.h"
#include "api/router.h"
#include "core/status.h"
#include "telemetry/metrics.h"

namespace uc::api {

class ApiServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;            // 0: an ephemeral port, see port()
    std::string auth_token;  // empty: no authentication
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 64 * 1024;  // all header lines together
    bool allow_unauthenticated_remote = false;
    std::size_t threads = 8;
    std::chrono::milliseconds request_timeout{10000};  // a request's first byte to its last
    std::chrono::milliseconds write_timeout{10000};    // writing a response without progress
    std::chrono::milliseconds idle_timeout{5000};      // keep-alive: waiting for the next request
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_client = 256;
    // Both set: HTTPS with this PEM certificate chain and key (web_ui.tls).
    std::string tls_cert_file;
    std::string tls_key_file;
    // Set: every mutating request (POST, PUT, PATCH, DELETE) is appended here (audit_log.h).
    std::string audit_log_path;
  };

  struct Providers {
    std::function<nlohmann::json()> status;
    std::function<nlohmann::json()> health;
    std::function<nlohmann::json()> ready;
    const telemetry::MetricsRegistry* metrics = nullptr;  // must outlive the server
  };

  ApiServer(Options options, Providers providers);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Adds a route before start() (FAILED_PRECONDITION afterwards). Pattern
  // syntax in router.h. Built-in paths cannot be replaced (ALREADY_EXISTS).
  // summary: the route's line in GET /api/openapi.json.
  Status add_route(std::string_view method, std::string_view pattern, Handler handler, std::string summary = {});
  // A module's routes as one table (method, pattern, handler, OpenAPI summary), added in
  // order; the first failure is returned.
  struct RouteSpec {
    const char* method;
    const char* pattern;
    Handler handler;
    const char* summary;
  };
  Status add_routes(const std::vector<RouteSpec>& routes);
  // The route table (built-in routes first), as served.
  std::vector<Router::RouteInfo> routes() const { return router_.routes(); }

  // Binds host:port and starts serving. UNAVAILABLE when the address cannot be
  // bound (port taken, no permission), INVALID_ARGUMENT / FAILED_PRECONDITION
  // for bad options; FAILED_PRECONDITION when already started.
  Status start();
  void stop();

  bool is_running() const { return running_.load(); }
  // The bound port (useful with port 0); 0 before start().
  int port() const { return server_ ? server_->port() : 0; }
  // Connections accepted, refused, evicted, timed out; zeros before start().
  HttpServer::Stats connection_stats() const { return server_ ? server_->stats() : HttpServer::Stats{}; }

  // Request handling without sockets; what the server runs for each request
  // after it has been parsed. Exposed for tests.
  Response handle(const Request& request) const;

 private:
  static Response health_response(const std::function<nlohmann::json()>& provider);
  bool authorized(const Request& request) const;

  Options options_;
  Providers providers_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<AuditLog> audit_;
  std::atomic<bool> running_{false};
  std::atomic<bool> started_{false};
};

// Constant-time for a given expected length: the time does not depend on
// where `given` first differs.
bool constant_time_equal(std::string_view given, std::string_view expected);

bool is_loopback_host(std::string_view host);

}  // namespace uc::api
