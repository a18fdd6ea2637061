#include "api/router.h"

#include <gtest/gtest.h>

#include "api/api_server.h"

namespace uc::api {
namespace {

Handler named(std::string name) {
  return [name](const Request&) { return Response::text(name, "text/plain"); };
}

std::string call(const Router::Match& m) {
  return (*m.handler)(Request{}).body;
}

TEST(Router, MatchesLiteralsAndParameters) {
  Router r;
  ASSERT_TRUE(r.add("GET", "/api/sources", named("list")).is_ok());
  ASSERT_TRUE(r.add("GET", "/api/sources/{name}", named("one")).is_ok());
  ASSERT_TRUE(r.add("POST", "/api/sources/{name}/start", named("start")).is_ok());
  ASSERT_TRUE(r.add("GET", "/", named("root")).is_ok());

  auto m = r.match("GET", "/api/sources/plc%201");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(call(m), "one");
  EXPECT_EQ(m.params.at("name"), "plc%201");

  m = r.match("POST", "/api/sources/x/start");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(call(m), "start");
  EXPECT_EQ(m.params.at("name"), "x");

  EXPECT_EQ(call(r.match("GET", "/")), "root");
  EXPECT_EQ(call(r.match("HEAD", "/api/sources")), "list");
  EXPECT_EQ(r.match("GET", "/api/sources/").handler, nullptr);  // empty segment is no parameter
  EXPECT_TRUE(r.match("GET", "/api/sourcesx").allowed_methods.empty());
  EXPECT_TRUE(r.match("GET", "").allowed_methods.empty());
  EXPECT_TRUE(r.match("GET", "relative").allowed_methods.empty());
}

TEST(Router, WrongMethodReportsAllowedMethods) {
  Router r;
  ASSERT_TRUE(r.add("GET", "/api/zerobus/config", named("get")).is_ok());
  ASSERT_TRUE(r.add("POST", "/api/zerobus/config", named("post")).is_ok());
  auto m = r.match("DELETE", "/api/zerobus/config");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "HEAD", "OPTIONS", "POST"}));
}

TEST(Router, LiteralBeatsParameter) {
  Router r;
  ASSERT_TRUE(r.add("GET", "/api/dlq/{id}", named("param")).is_ok());
  ASSERT_TRUE(r.add("GET", "/api/dlq/stats", named("literal")).is_ok());
  EXPECT_EQ(call(r.match("GET", "/api/dlq/stats")), "literal");
  EXPECT_EQ(call(r.match("GET", "/api/dlq/17")), "param");
}

TEST(Router, RestParameterTakesTheRemainingSegments) {
  Router r;
  ASSERT_TRUE(r.add("GET", "/api/tags/{path...}", named("rest")).is_ok());
  ASSERT_TRUE(r.add("GET", "/api/tags/{one}/x", named("one")).is_ok());
  auto m = r.match("GET", "/api/tags/plant/line1/temp");
  EXPECT_EQ(call(m), "rest");
  EXPECT_EQ(m.params["path"], "plant/line1/temp");
  m = r.match("GET", "/api/tags/plant");
  EXPECT_EQ(call(m), "rest");
  EXPECT_EQ(m.params["path"], "plant");
  EXPECT_EQ(call(r.match("GET", "/api/tags/plant/x")), "one");  // {one} beats {path...}
  EXPECT_TRUE(r.match("GET", "/api/tags").allowed_methods.empty());
  EXPECT_EQ(r.match("GET", "/api/tags/").handler, nullptr);
  EXPECT_EQ(r.match("GET", "/api/tags/a//b").handler, nullptr);
  EXPECT_EQ(r.match("GET", "/api/tags/a/b/").handler, nullptr);
  EXPECT_EQ(r.add("GET", "/b/{p...}/c", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/b/{...}", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/api/tags/{other...}", named("x")).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(r.add("GET", "/api/tags/{single}", named("single")).is_ok());
  EXPECT_EQ(call(r.match("GET", "/api/tags/plant")), "single");
}

TEST(Router, RejectsBadRoutes) {
  Router r;
  EXPECT_EQ(r.add("FETCH", "/x", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "x", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/a//b", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/a/{}", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/a/{1x}", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/a/{n}/{n}", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/a/b{n}", named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.add("GET", "/a", nullptr).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(r.add("GET", "/a/{n}", named("x")).is_ok());
  EXPECT_EQ(r.add("GET", "/a/{other}", named("y")).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(r.add("PUT", "/a/{other}", named("y")).is_ok());
}

TEST(ApiHelpers, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secreT", "secret"));
  EXPECT_FALSE(constant_time_equal("secret1", "secret"));
  EXPECT_FALSE(constant_time_equal("secre", "secret"));
  EXPECT_FALSE(constant_time_equal("", "secret"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(ApiHelpers, Loopback) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.168.1.10"));
}

TEST(ApiHandle, RoutesWithoutSockets) {
  ApiServer server({}, {});
  Request req;
  req.method = "GET";
  req.path = "/health";
  auto r = server.handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"status", "ok"}}));
  req.path = "/nope";
  EXPECT_EQ(server.handle(req).status, 404);
  req.method = "POST";
  req.path = "/metrics";
  r = server.handle(req);
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, HEAD, OPTIONS"}));
}

TEST(ApiHandle, InvalidUtf8IsReplacedNotThrown) {
  ApiServer::Providers providers;
  providers.status = [] { return nlohmann::json{{"name", std::string("bad\xff")}}; };
  ApiServer server({}, providers);
  Request req;
  req.method = "GET";
  req.path = "/api/status";
  auto r = server.handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["name"], "bad\xEF\xBF\xBD");
}

}  // namespace
}  // namespace uc::api
