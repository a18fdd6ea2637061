#include "api/api_server.h"

#include <exception>

#include "api/openapi.h"
#include "core/clock.h"
#include "telemetry/log.h"

namespace uc::api {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

Request to_request(const ParsedRequest& parsed) {
  Request r;
  r.method = parsed.method;
  r.path = parsed.path;
  r.query = parsed.query;
  r.body = parsed.body;
  r.client = parsed.client;
  for (const auto& [k, v] : parsed.headers) r.headers.emplace(k, v);  // emplace keeps the first
  return r;
}

bool is_health_route(const ParsedRequest& r) {
  return (r.method == "GET" || r.method == "HEAD") && (r.path == "/health" || r.path == "/health/ready");
}

}  // namespace

bool constant_time_equal(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff = static_cast<unsigned char>(diff | (g ^ static_cast<unsigned char>(expected[i])));
  }
  return diff == 0;
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.substr(0, 4) == "127.";
}

ApiServer::ApiServer(Options options, Providers providers)
    : options_(std::move(options)), providers_(std::move(providers)) {
  // Built-in routes go through the same table as everything else, so a later
  // add_route() of the same path is reported as a clash.
  (void)router_.add(
      "GET", "/health", [this](const Request&) { return health_response(providers_.health); },
      "Liveness: 200 while the process serves");
  (void)router_.add(
      "GET", "/health/ready", [this](const Request&) { return health_response(providers_.ready); },
      "Readiness: 503 with the reasons when the connector cannot do its job");
  (void)router_.add(
      "GET", "/api/status",
      [this](const Request&) {
        return Response::json(providers_.status ? providers_.status() : nlohmann::json::object());
      },
      "Sources and targets: state, last error, counters");
  (void)router_.add(
      "GET", "/api/metrics",
      [this](const Request&) {
        return Response::json(providers_.metrics != nullptr ? providers_.metrics->to_json()
                                                            : nlohmann::json::object());
      },
      "The metrics as JSON");
  (void)router_.add(
      "GET", "/metrics",
      [this](const Request&) {
        return Response::text(providers_.metrics != nullptr ? providers_.metrics->render_prometheus() : std::string(),
                              kPrometheusContentType);
      },
      "The metrics in Prometheus text format");
  (void)router_.add(
      "GET", "/api/openapi.json", [this](const Request&) { return Response::json(openapi_document(router_)); },
      "This document: every route served, from the route table");
}

ApiServer::~ApiServer() {
  stop();
}

Status ApiServer::add_route(std::string_view method, std::string_view pattern, Handler handler,
                             std::string summary) {
  if (started_.load()) return Status(StatusCode::kFailedPrecondition, "routes must be added before start()");
  return router_.add(method, pattern, std::move(handler), std::move(summary));
}

Status ApiServer::add_routes(const std::vector<RouteSpec>& routes) {
  for (const auto& r : routes) {
    if (Status s = add_route(r.method, r.pattern, r.handler, r.summary); !s.is_ok()) return s;
  }
  return Status::ok();
}

Response ApiServer::health_response(const std::function<nlohmann::json()>& provider) {
  nlohmann::json body = provider ? provider() : nlohmann::json{{"status", "ok"}};
  const bool healthy = body.is_object() && body.contains("status") && body["status"] == "ok";
  return Response::json(body, healthy ? 200 : 503);
}

bool ApiServer::authorized(const Request& request) const {
  if (options_.auth_token.empty() || request.path == "/health" || request.path == "/health/ready") return true;
  auto header = request.header("authorization");
  if (!header) return false;
  std::string_view value = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() || lower(value.substr(0, kScheme.size())) != kScheme) return false;
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return constant_time_equal(value, options_.auth_token);
}

Response ApiServer::handle(const Request& request) const {
  if (!authorized(request)) {
    auto r = Response::error(401, "missing or invalid bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"uc\"");
    return r;
  }
  auto match = router_.match(request.method, request.path);
  if (match.handler != nullptr) {
    Request routed = request;
    routed.path_params = std::move(match.params);
    try {
      return (*match.handler)(routed);
    } catch (const std::exception& e) {
      telemetry::get_logger("api")->error("handler failed {} {}", telemetry::kv("path", request.path),
                                          telemetry::kv("error", e.what()));
      return Response::error(500, "internal error");
    }
  }
  if (match.allowed_methods.empty()) return Response::error(404, "no such endpoint: " + request.path);
  Response r;
  if (request.method == "OPTIONS") {
    r.status = 204;
  } else {
    r = Response::error(405, "method " + request.method + " not allowed on " + request.path);
  }
  r.headers.emplace_back("Allow", join(match.allowed_methods, ", "));
  return r;
}

Status ApiServer::start() {
  if (started_.exchange(true)) return Status(StatusCode::kFailedPrecondition, "API server already started");
  if (options_.port < 0 || options_.port > 65535) {
    started_ = false;
    return invalid_argument("API port must be 0..65535, got " + std::to_string(options_.port));
  }
  if (options_.auth_token.empty() && !is_loopback_host(options_.host) && !options_.allow_unauthenticated_remote) {
    started_ = false;
    return Status(StatusCode::kFailedPrecondition,
                  "API on non-loopback address " + options_.host + " requires an auth token");
  }
  HttpServer::Options ho;
  ho.host = options_.host;
  ho.port = options_.port;
  ho.limits.max_body_bytes = options_.max_body_bytes;
  ho.limits.max_header_bytes = options_.max_header_bytes;
  ho.timeouts.request_us = options_.request_timeout.count() * 1000;
  ho.timeouts.write_us = options_.write_timeout.count() * 1000;
  ho.timeouts.idle_us = options_.idle_timeout.count() * 1000;
  ho.max_connections = options_.max_connections;
  ho.max_connections_per_client = options_.max_connections_per_client;
  ho.workers = options_.threads;
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    auto tls = TlsContext::load(options_.tls_cert_file, options_.tls_key_file);
    if (!tls.is_ok()) {
      started_ = false;
      return tls.status();
    }
    ho.tls = std::move(tls).value();
  }
  if (!options_.audit_log_path.empty()) {
    auto audit = AuditLog::open(options_.audit_log_path);
    if (!audit.is_ok()) {
      started_ = false;
      return audit.status();
    }
    audit_ = std::move(audit).value();
  }
  auto server = std::make_unique<HttpServer>(
      ho,
      [this](const ParsedRequest& parsed) {
        Response response = handle(to_request(parsed));
        if (audit_ && AuditLog::is_mutating(parsed.method)) {
          audit_->record(SystemClock::instance().now_us(), parsed.client, parsed.method, parsed.path,
                         response.status);
        }
        return response;
      },
      is_health_route);
  if (Status s = server->start(); !s.is_ok()) {
    started_ = false;
    return s;
  }
  server_ = std::move(server);
  running_ = true;
  telemetry::get_logger("api")->info("listening {} {} {} {}", telemetry::kv("scheme", options_.tls_cert_file.empty() ? "http" : "https"),
                                     telemetry::kv("host", options_.host),
                                     telemetry::kv("port", server_->port()),
                                     telemetry::kv("auth", options_.auth_token.empty() ? "off" : "bearer"));
  return Status::ok();
}

void ApiServer::stop() {
  if (!server_) return;
  server_->stop();
  if (running_.exchange(false)) telemetry::get_logger("api")->info("stopped");
}

}  // namespace uc::api
