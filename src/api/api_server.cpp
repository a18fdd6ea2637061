#include "api/api_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "api/openapi.h"
#include "telemetry/log.h"

namespace uc::api {

namespace {

// httplib dispatches on regexes; this one matches every path and the router
// does the real work. Paths are at most 8 KiB (longer URIs get 414 first),
// well within what std::regex can match without deep recursion.
constexpr const char* kAnyPath = R"([\s\S]*)";

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

const char* default_error_message(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "unauthorized";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 416:
      return "range not satisfiable";
    case 431:
      return "request header fields too large";
    case 500:
      return "internal error";
    default:
      return status >= 500 ? "server error" : "request error";
  }
}

// Only SO_REUSEADDR (restart while old connections sit in TIME_WAIT). httplib's
// default adds SO_REUSEPORT, which would let a second server bind a port that
// is already listening instead of reporting it as taken.
void reuse_addr_only(int sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// httplib 0.11 listens with a backlog of 5, fixed at its compile time, so a
// burst of connections overflows the accept queue and clients stall for a SYN
// retransmit (1 s). Linux lets listen() be called again to raise the backlog;
// the listening socket is a protected member, hence this subclass.
class Server final : public httplib::Server {
 public:
  void raise_backlog(int backlog) {
    const auto fd = svr_sock_.load();
    if (fd != INVALID_SOCKET) ::listen(fd, backlog);
  }
};

constexpr int kListenBacklog = 128;

Request to_request(const httplib::Request& req) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  r.body = req.body;
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) r.headers.emplace(lower(k), v);  // emplace keeps the first
  return r;
}

void apply(const Response& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (!r.body.empty() || r.status != 204) res.set_content(r.body, r.content_type);
}

}  // namespace

bool ApiServer::headers_too_large(const httplib::Request& req) const {
  std::size_t bytes = 0;
  for (const auto& [k, v] : req.headers) bytes += k.size() + v.size() + 4;
  return bytes > options_.max_header_bytes;
}

// Reads the whole body into memory, at most max_body_bytes of it (after any
// Content-Encoding is undone). A longer body is read to its end and dropped,
// so the connection stays usable, and answered with 413.
ApiServer::BodyResult ApiServer::read_body(const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& reader) const {
  BodyResult out;
  // RFC 9112 6.3: without Content-Length or Transfer-Encoding there is no body.
  if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) return out;
  const std::size_t max = options_.max_body_bytes;
  bool too_large = false;
  std::size_t total = 0;
  auto receive = [&](const char* data, std::size_t n) {
    total += n;
    if (too_large) return true;
    if (out.data.size() + n > max) {
      too_large = true;
      std::string().swap(out.data);
      return true;
    }
    out.data.append(data, n);
    return true;
  };
  bool ok = false;
  if (req.is_multipart_form_data()) {
    ok = reader([](const httplib::MultipartFormData&) { return true; }, receive);
    if (ok && !too_large) {
      out.status = 415;
      out.message = "multipart bodies are not supported";
      return out;
    }
  } else {
    ok = reader(receive);
  }
  if (!ok) {
    out.status = res.status == 413 ? 413 : 400;
    out.message = out.status == 413 ? "request body too large (limit " + std::to_string(max) + " bytes)"
                                    : "malformed or incomplete request body";
  } else if (too_large) {
    out.status = 413;
    out.message = "request body too large (limit " + std::to_string(max) + " bytes)";
  }
  if (out.status != 0) out.data.clear();
  return out;
}

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

  auto server = std::make_unique<Server>();
  const std::size_t threads = options_.threads == 0 ? 1 : options_.threads;
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server->set_socket_options(reuse_addr_only);
  server->set_payload_max_length(options_.max_body_bytes);
  server->set_read_timeout(options_.read_timeout);
  server->set_write_timeout(options_.write_timeout);
  server->set_keep_alive_timeout(static_cast<time_t>(options_.keep_alive_timeout.count()));

  const httplib::Server::Handler serve = [this](const httplib::Request& req, httplib::Response& res) {
    if (headers_too_large(req)) {
      apply(Response::error(431, "request header fields too large"), res);
      return;
    }
    apply(handle(to_request(req)), res);
  };
  // Methods that may carry a body read it here rather than in httplib: its
  // 0.11 body limit covers only Content-Length bodies, not chunked ones, and
  // it reads a body up to EOF when there is no length at all.
  const httplib::Server::HandlerWithContentReader serve_with_body =
      [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        BodyResult body = read_body(req, res, reader);
        if (body.status != 0) {
          apply(Response::error(body.status, body.message), res);
          return;
        }
        if (headers_too_large(req)) {
          apply(Response::error(431, "request header fields too large"), res);
          return;
        }
        Request request = to_request(req);
        request.body = std::move(body.data);
        apply(handle(request), res);
      };
  server->Get(kAnyPath, serve);
  server->Options(kAnyPath, serve);
  server->Post(kAnyPath, serve_with_body);
  server->Put(kAnyPath, serve_with_body);
  server->Patch(kAnyPath, serve_with_body);
  server->Delete(kAnyPath, serve_with_body);

  // Errors httplib produces itself (400, 413, 414, unknown method) arrive with
  // an empty body; give them the same JSON shape as ours.
  const std::size_t max_body = options_.max_body_bytes;
  server->set_error_handler(
      httplib::Server::HandlerWithResponse([max_body](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message = default_error_message(res.status);
        if (res.status == 413) message += " (limit " + std::to_string(max_body) + " bytes)";
        apply(Response::error(res.status, message), res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    apply(Response::error(500, "internal error"), res);
  });

  errno = 0;
  int port = options_.port;
  if (port == 0) {
    port = server->bind_to_any_port(options_.host);
  } else if (!server->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    const int err = errno;
    started_ = false;
    std::string msg = "cannot listen on " + options_.host + ":" + std::to_string(options_.port);
    msg += err != 0 ? std::string(": ") + std::strerror(err) : std::string(": address unavailable");
    return unavailable(std::move(msg));
  }

  server->raise_backlog(kListenBacklog);
  httplib::Server* raw = server.get();
  server_ = std::move(server);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  thread_ = std::thread([raw, finished] {
    raw->listen_after_bind();
    finished->store(true);
  });
  // httplib's stop() is a no-op until the accept loop has begun: wait for it
  // so that a stop() right after start() cannot leave the thread running.
  while (!raw->is_running() && !finished->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bound_port_ = port;
  running_ = true;
  telemetry::get_logger("api")->info("listening {} {} {}", telemetry::kv("host", options_.host),
                                     telemetry::kv("port", port),
                                     telemetry::kv("auth", options_.auth_token.empty() ? "off" : "bearer"));
  return Status::ok();
}

void ApiServer::stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  if (running_.exchange(false)) telemetry::get_logger("api")->info("stopped");
}

}  // namespace uc::api
