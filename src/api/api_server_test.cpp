// Integration tests for ApiServer over real loopback sockets: httplib::Client
// for well-formed traffic, raw sockets for malformed and oversized requests.
#include "api/api_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>


namespace uc::api {
namespace {

using nlohmann::json;

// ---- raw socket helpers ----

class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // Sends everything it can; the server may close early, which is fine.
  void send_all(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Reads one response (headers plus Content-Length bytes of body), or what
  // arrives until the server closes, resets, or the receive timeout passes.
  std::string read_response() {
    std::string out;
    char buf[65536];
    while (true) {
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      const auto end = out.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      std::size_t length = 0;
      const auto cl = out.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) length = std::stoul(out.substr(cl + 16));
      if (out.size() >= end + 4 + length) break;
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int status_of(const std::string& raw_response) {
  // "HTTP/1.1 400 Bad Request\r\n..."
  if (raw_response.rfind("HTTP/1.", 0) != 0 || raw_response.size() < 12) return 0;
  return std::stoi(raw_response.substr(9, 3));
}

// The body of the first response in `raw_response`.
std::string body_of(const std::string& raw_response) {
  const auto end = raw_response.find("\r\n\r\n");
  if (end == std::string::npos) return {};
  const auto cl = raw_response.find("Content-Length: ");
  if (cl == std::string::npos || cl > end) return raw_response.substr(end + 4);
  return raw_response.substr(end + 4, std::stoul(raw_response.substr(cl + 16)));
}

// {"error": {"code": "...", "message": "...", "details": {...}}}, with this code when given.
bool is_error_body(const std::string& text, std::string_view code = {}) {
  const auto body = json::parse(text, nullptr, false);
  if (!body.is_object() || body.size() != 1 || !body.contains("error")) return false;
  const auto& e = body["error"];
  if (!e.is_object() || e.size() != 3 || !e.value("code", json()).is_string() ||
      !e.value("message", json()).is_string() || !e.value("details", json()).is_object()) {
    return false;
  }
  return code.empty() || e["code"] == code;
}

// A closed connection or a 4xx answer with a JSON error body.
void expect_rejected(const std::string& response, const char* what) {
  if (response.empty()) return;  // closed without an answer
  const int status = status_of(response);
  EXPECT_GE(status, 400) << what << ": " << response.substr(0, 200);
  EXPECT_LT(status, 500) << what;
  EXPECT_TRUE(is_error_body(body_of(response))) << what << ": " << response.substr(0, 300);
}

// An answer with exactly this status and a JSON error body.
void expect_error_status(const std::string& response, int status, const char* what) {
  EXPECT_EQ(status_of(response), status) << what << ": " << response.substr(0, 300);
  EXPECT_TRUE(is_error_body(body_of(response))) << what << ": " << response.substr(0, 300);
}

// ---- fixture ----

class ApiServerTest : public ::testing::Test {
 protected:
  void start(ApiServer::Options options = {}) {
    registry_.counter("uc_records_received_total", "Samples received from a source.", {"source"}).with({"plc \"1\""}).inc(7);
    ApiServer::Providers providers;
    providers.status = [] { return json{{"sources", json::array({"plc1"})}, {"version", "0.1.0"}}; };
    providers.health = [this] {
      return healthy_.load() ? json{{"status", "ok"}, {"uptime_s", 3}} : json{{"status", "degraded"}};
    };
    providers.ready = [this] {
      return ready_.load() ? json{{"status", "ok"}, {"reasons", json::array()}}
                           : json{{"status", "unavailable"}, {"reasons", {"target t: circuit breaker open"}}};
    };
    providers.metrics = &registry_;
    server_ = std::make_unique<ApiServer>(std::move(options), std::move(providers));
    ASSERT_TRUE(
        server_
            ->add_route(
                "GET", "/api/sources/{name}",
                [](const Request& req) {
                  return Response::json({{"name", req.path_param("name")}, {"q", req.query_value("q").value_or("")}});
                })
            .is_ok());
    ASSERT_TRUE(server_
                    ->add_route("POST", "/api/echo",
                                [](const Request& req) {
                                  return Response::json({{"size", req.body.size()}, {"method", req.method}});
                                })
                    .is_ok());
    ASSERT_TRUE(server_
                    ->add_route("GET", "/api/throws",
                                [](const Request&) -> Response { throw std::runtime_error("secret detail"); })
                    .is_ok());
    auto st = server_->start();
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    ASSERT_GT(server_->port(), 0);
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    return c;
  }

  void expect_still_serving() {
    auto res = client().Get("/health");
    ASSERT_TRUE(res) << "server stopped answering";
    EXPECT_EQ(res->status, 200);
  }

  telemetry::MetricsRegistry registry_;
  std::atomic<bool> healthy_{true};
  std::atomic<bool> ready_{true};
  std::unique_ptr<ApiServer> server_;
};

// ---- endpoints ----

TEST_F(ApiServerTest, Health) {
  start();
  auto res = client().Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(res->body), (json{{"status", "ok"}, {"uptime_s", 3}}));

  healthy_ = false;
  res = client().Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body)["status"], "degraded");

  healthy_ = true;
  res = client().Head("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
}

// Readiness is its own route: a live process that cannot do its job answers 503 with why.
TEST_F(ApiServerTest, ReadinessIsSeparateFromLiveness) {
  start();
  auto res = client().Get("/health/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ready_ = false;
  res = client().Get("/health/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body)["reasons"][0], "target t: circuit breaker open");
  res = client().Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);  // still alive
}

TEST_F(ApiServerTest, StatusAndMetricsJson) {
  start();
  auto res = client().Get("/api/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(res->body)["sources"], json::array({"plc1"}));

  res = client().Get("/api/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const auto metrics = json::parse(res->body);
  EXPECT_EQ(metrics, registry_.to_json());
  EXPECT_EQ(metrics["uc_records_received_total"]["values"][0]["labels"]["source"], "plc \"1\"");
  EXPECT_EQ(metrics["uc_records_received_total"]["values"][0]["value"], 7);
}

TEST_F(ApiServerTest, PrometheusText) {
  start();
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, registry_.render_prometheus());
  EXPECT_NE(res->body.find("uc_records_received_total{source=\"plc \\\"1\\\"\"} 7\n"), std::string::npos);
}

TEST_F(ApiServerTest, CustomRoutesWithParamsQueryAndBody) {
  start();
  auto res = client().Get("/api/sources/line%201?q=a%26b");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), (json{{"name", "line 1"}, {"q", "a&b"}}));

  res = client().Post("/api/echo", std::string(1000, 'x'), "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["size"], 1000);

  EXPECT_EQ(server_->add_route("GET", "/late", [](const Request&) { return Response{}; }).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ApiServerTest, ErrorsAreJson) {
  start();
  auto res = client().Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(is_error_body(res->body, "not_found"));

  res = client().Post("/health", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_TRUE(is_error_body(res->body, "method_not_allowed"));

  res = client().Delete("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);

  res = client().Options("/api/echo");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Allow"), "OPTIONS, POST");

  res = client().Get("/api/throws");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(json::parse(res->body),
            (json{{"error", {{"code", "internal"}, {"message", "internal error"}, {"details", json::object()}}}}));
  EXPECT_EQ(res->body.find("secret detail"), std::string::npos);
}

TEST_F(ApiServerTest, BodyOverLimitIs413) {
  ApiServer::Options opt;
  opt.max_body_bytes = 1024;
  start(opt);
  auto res = client().Post("/api/echo", std::string(1024, 'x'), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client().Post("/api/echo", std::string(1025, 'x'), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(is_error_body(res->body, "body_too_large"));
  expect_still_serving();
}

TEST_F(ApiServerTest, DefaultBodyLimitIsOneMiB) {
  start();
  auto res = client().Post("/api/echo", std::string(1024 * 1024, 'x'), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client().Post("/api/echo", std::string(1024 * 1024 + 1, 'x'), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
}

// ---- malformed traffic ----

TEST_F(ApiServerTest, TruncatedRequest) {
  start();
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  c.send_all("GET /hea");
  c.shutdown_write();
  expect_rejected(c.read_response(), "truncated request line");

  RawConnection c2(server_->port());
  c2.send_all("GET /health HTTP/1.1\r\nHost: x\r\nX-Partial: abc");
  c2.shutdown_write();
  expect_rejected(c2.read_response(), "truncated headers");

  RawConnection c3(server_->port());
  c3.send_all("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part");
  c3.shutdown_write();
  expect_rejected(c3.read_response(), "truncated body");
  expect_still_serving();
}

TEST_F(ApiServerTest, GarbageBytes) {
  start();
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) % 256);
  RawConnection c(server_->port());
  c.send_all(garbage + "\r\n\r\n");
  expect_error_status(c.read_response(), 400, "garbage");

  RawConnection c2(server_->port());
  c2.send_all("\r\n\r\n\r\n");
  expect_error_status(c2.read_response(), 400, "blank lines");

  RawConnection c3(server_->port());
  c3.send_all("BREW /health HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_error_status(c3.read_response(), 501, "unknown method");
  expect_still_serving();
}

TEST_F(ApiServerTest, Http09StyleRequestLine) {
  start();
  RawConnection c(server_->port());
  c.send_all("GET /health\r\n\r\n");
  expect_error_status(c.read_response(), 400, "HTTP/0.9 request");
  expect_still_serving();
}

TEST_F(ApiServerTest, TenMegabyteHeader) {
  start();
  RawConnection c(server_->port());
  c.send_all("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(10 * 1024 * 1024, 'a') + "\r\n\r\n");
  expect_error_status(c.read_response(), 431, "10 MB header line");

  // Many small headers adding up to too much.
  std::string many = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 20000; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
  RawConnection c2(server_->port());
  c2.send_all(many + "\r\n");
  expect_error_status(c2.read_response(), 431, "2 MB of headers");
  expect_still_serving();
}

TEST_F(ApiServerTest, TenMegabyteBody) {
  start();
  RawConnection c(server_->port());
  c.send_all("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n" +
             std::string(10 * 1024 * 1024, 'z'));
  expect_error_status(c.read_response(), 413, "10 MB body");
  // The body was drained: the same connection serves the next request.
  c.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(c.read_response()), 200);
  expect_still_serving();
}

TEST_F(ApiServerTest, ChunkedBodyOverLimitIs413) {
  start();
  RawConnection c(server_->port());
  std::string request = "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) request += "100000\r\n" + std::string(0x100000, 'c') + "\r\n";
  request += "0\r\n\r\n";
  c.send_all(request);
  expect_error_status(c.read_response(), 413, "20 MB chunked body");
  c.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(c.read_response()), 200);

  RawConnection small(server_->port());
  small.send_all("POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  const auto response = small.read_response();
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_EQ(json::parse(body_of(response))["size"], 5);
}

TEST_F(ApiServerTest, PostWithoutLengthHasEmptyBody) {
  ApiServer::Options opt;
  opt.request_timeout = std::chrono::milliseconds(3000);
  start(opt);
  RawConnection c(server_->port());
  const auto t0 = std::chrono::steady_clock::now();
  c.send_all("POST /api/echo HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto response = c.read_response();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "waited for a body";
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_EQ(json::parse(body_of(response))["size"], 0);
}

TEST_F(ApiServerTest, MultipartIsRejected) {
  start();
  httplib::MultipartFormDataItems items = {{"file", "content", "a.txt", "text/plain"}};
  auto res = client().Post("/api/echo", items);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  EXPECT_TRUE(is_error_body(res->body, "unsupported_media_type"));
  expect_still_serving();
}

TEST_F(ApiServerTest, LongUri) {
  start();
  auto res = client().Get("/" + std::string(9000, 'a'));
  if (res) {
    EXPECT_EQ(res->status, 414);
    EXPECT_TRUE(is_error_body(res->body));
  }
  expect_still_serving();
}

TEST_F(ApiServerTest, LongestAcceptedPath) {
  start();
  auto res = client().Get("/" + std::string(8100, 'a'));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(is_error_body(res->body));
}

TEST_F(ApiServerTest, SlowClientIsDisconnected) {
  ApiServer::Options opt;
  opt.request_timeout = std::chrono::milliseconds(300);
  opt.idle_timeout = std::chrono::seconds(1);
  start(opt);
  RawConnection c(server_->port());
  c.send_all("GET /health HTTP/1.1\r\nHost: x\r\n");  // and then nothing
  expect_error_status(c.read_response(), 408, "stalled headers");
  expect_still_serving();
  EXPECT_EQ(server_->connection_stats().timed_out, 1u);
}

// Framing that a request smuggler or a broken client sends is refused at once, not after
// a read timeout.
TEST_F(ApiServerTest, NegativeLengthAndLengthWithChunkingAreRefusedAtOnce) {
  start();
  RawConnection c(server_->port());
  c.send_all("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
  expect_error_status(c.read_response(), 400, "Content-Length: -5");
  RawConnection c2(server_->port());
  c2.send_all(
      "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  expect_error_status(c2.read_response(), 400, "Content-Length with Transfer-Encoding");
  expect_still_serving();
}

// Many idle keep-alive connections and slowloris clients trickling header bytes do not
// keep /health from answering: no thread waits on a client, and idle connections make
// room for new ones. (The latency under this load is measured in bench/, not here.)
TEST_F(ApiServerTest, HealthAnswersWhileHundredsOfIdleAndSlowClientsAreConnected) {
  ApiServer::Options opt;
  opt.max_connections_per_client = 300;
  opt.max_connections = 600;
  start(opt);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 400; ++i) idle.push_back(std::make_unique<RawConnection>(server_->port()));
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<RawConnection>(server_->port()));
    slow.back()->send_all("GET /health HTTP/1.1\r\nX-Slow: ");
  }
  for (int round = 0; round < 5; ++round) {
    for (auto& s : slow) s->send_all("a");
    auto res = client().Get("/health");
    ASSERT_TRUE(res) << "round " << round;
    EXPECT_EQ(res->status, 200);
  }
  const auto stats = server_->connection_stats();
  EXPECT_GT(stats.evicted, 0u) << "the per-client cap made room by closing idle connections";
  EXPECT_LE(stats.open, 600u);
  EXPECT_EQ(stats.refused, 0u);
}

// At the cap with nothing idle (every connection is mid-request), a new connection is
// closed at once rather than queued behind them.
TEST_F(ApiServerTest, AtTheCapWithNothingIdleNewConnectionsAreRefused) {
  ApiServer::Options opt;
  opt.max_connections_per_client = 5;
  start(opt);
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 5; ++i) {
    slow.push_back(std::make_unique<RawConnection>(server_->port()));
    slow.back()->send_all("GET /health HTTP/1.1\r\n");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the loop read them
  RawConnection extra(server_->port());
  EXPECT_EQ(extra.read_response(), "") << "closed without an answer";
  const auto stats = server_->connection_stats();
  EXPECT_GE(stats.refused, 1u) << "accepted " << stats.accepted << " evicted " << stats.evicted << " open " << stats.open;
  slow.clear();  // the clients leave: room again
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  expect_still_serving();
}

// ---- auth ----

TEST_F(ApiServerTest, BearerTokenAuth) {
  ApiServer::Options opt;
  opt.auth_token = "s3cr3t-token";
  start(opt);
  auto c = client();

  auto res = c.Get("/api/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer realm=\"uc\"");
  EXPECT_TRUE(is_error_body(res->body, "unauthorized"));

  res = c.Get("/metrics", {{"Authorization", "Bearer wrong"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = c.Get("/metrics", {{"Authorization", "Bearer s3cr3t-token-and-more"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = c.Get("/metrics", {{"Authorization", "Basic czNjcjN0LXRva2Vu"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  // Orchestrators probe the health routes without a token.
  for (const char* path : {"/health", "/health/ready"}) {
    res = c.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << path;
  }
  // Unknown paths do not reveal themselves without a token.
  res = c.Get("/no/such/path");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);

  res = c.Get("/metrics", {{"Authorization", "Bearer s3cr3t-token"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  c.set_bearer_token_auth("s3cr3t-token");
  for (const char* path : {"/api/status", "/api/metrics", "/metrics"}) {
    res = c.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->body.find("s3cr3t"), std::string::npos) << path;
  }
  res = c.Get("/no/such/path");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = c.Get("/health", {{"Authorization", "bearer s3cr3t-token"}});  // scheme is case-insensitive
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  // /health is open without a token.
  res = client().Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(ApiServerStartup, RemoteBindNeedsTokenUnlessAllowed) {
  ApiServer::Options opt;
  opt.host = "0.0.0.0";
  ApiServer refused(opt, {});
  EXPECT_EQ(refused.start().code(), StatusCode::kFailedPrecondition);

  opt.auth_token = "t";
  ApiServer with_token(opt, {});
  auto st = with_token.start();
  EXPECT_TRUE(st.is_ok()) << st.to_string();
}

TEST(ApiServerStartup, RejectsBadPort) {
  ApiServer::Options opt;
  opt.port = 70000;
  ApiServer server(opt, {});
  EXPECT_EQ(server.start().code(), StatusCode::kInvalidArgument);
}

TEST(ApiServerStartup, PortAlreadyTaken) {
  ApiServer first({}, {});
  ASSERT_TRUE(first.start().is_ok());

  ApiServer::Options opt;
  opt.port = first.port();
  ApiServer second(opt, {});
  auto st = second.start();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find(std::to_string(first.port())), std::string::npos) << st.message();
  EXPECT_FALSE(second.is_running());

  // A listener that itself allows SO_REUSEPORT must not be shared either.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  opt.port = ntohs(addr.sin_port);
  ApiServer third(opt, {});
  EXPECT_EQ(third.start().code(), StatusCode::kUnavailable);
  close(fd);
}

TEST(ApiServerStartup, StopIsIdempotentAndStartOnce) {
  ApiServer server({}, {});
  server.stop();  // before start: nothing to do
  ASSERT_TRUE(server.start().is_ok());
  EXPECT_TRUE(server.is_running());
  EXPECT_EQ(server.start().code(), StatusCode::kFailedPrecondition);
  const int port = server.port();
  server.stop();
  server.stop();
  EXPECT_FALSE(server.is_running());
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  EXPECT_FALSE(c.Get("/health"));
}

TEST(ApiServerStartup, DestructorStopsAndStartStopIsFast) {
  for (int i = 0; i < 20; ++i) {
    ApiServer server({}, {});
    ASSERT_TRUE(server.start().is_ok());
  }
}

// ---- concurrency ----

TEST_F(ApiServerTest, ConcurrentClients) {
  start();
  constexpr int kThreads = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &ok] {
      auto c = client();
      for (int i = 0; i < kRequests; ++i) {
        const char* path = (i % 3 == 0) ? "/metrics" : (i % 3 == 1) ? "/api/status" : "/health";
        auto res = (t % 2 == 0) ? c.Get(path) : client().Get(path);  // keep-alive and fresh connections
        if (res && res->status == 200) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

}  // namespace
}  // namespace uc::api
