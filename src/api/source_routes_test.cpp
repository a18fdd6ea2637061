// The source routes over a fake SourceControl, through ApiServer::handle (no sockets):
// status codes, the error shape, body checks; and the OpenAPI document against the table.
#include "api/source_routes.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "api/openapi.h"

namespace uc::api {
namespace {

using json = nlohmann::json;

class FakeControl final : public SourceControl {
 public:
  std::vector<json> list() const override {
    std::vector<json> out;
    for (const auto& [name, v] : sources) out.push_back(v);
    return out;
  }
  std::optional<json> get(const std::string& name) const override {
    auto it = sources.find(name);
    if (it == sources.end()) return std::nullopt;
    return it->second;
  }
  Change add(const std::string& entry) override {
    Change c;
    const json body = json::parse(entry);
    if (!body.contains("name")) {
      c.errors.push_back({"/name", "missing required key \"name\""});
      return c;
    }
    if (body.contains("port") && body["port"].is_string()) c.errors.push_back({"/port", "expected an integer, got \"x\""});
    if (!c.errors.empty()) return c;
    const std::string name = body["name"];
    if (sources.count(name) != 0) {
      c.status = Status(StatusCode::kAlreadyExists, "a source named \"" + name + "\" exists");
      return c;
    }
    sources[name] = {{"name", name}, {"state", "connecting"}};
    c.view = sources[name];
    return c;
  }
  Change replace(const std::string& name, const std::string& entry) override {
    Change c;
    if (sources.count(name) == 0) {
      c.status = not_found("no source named \"" + name + "\"");
      return c;
    }
    sources[name]["config"] = json::parse(entry);
    c.view = sources[name];
    return c;
  }
  Result<json> remove(const std::string& name, SpoolMode spool) override {
    if (sources.erase(name) == 0) return not_found("no source named \"" + name + "\"");
    last_spool = spool;
    return json{{"removed", name}};
  }
  Result<json> start(const std::string& name) override { return set_state(name, "connecting"); }
  Result<json> stop(const std::string& name) override { return set_state(name, "stopped"); }

  // A test answers with the scripted status (the view as details) and records the limits.
  Change test(const std::string& name, const TestLimits& limits) override {
    last_limits = limits;
    Change c;
    if (sources.count(name) == 0) {
      c.status = not_found("no source named \"" + name + "\"");
      return c;
    }
    c.status = test_status;
    c.view = {{"source", name}, {"records", json::array()}, {"last_error", test_status.message()}};
    return c;
  }
  Change test_entry(const std::string& entry, const TestLimits& limits) override {
    const json body = json::parse(entry);
    if (!body.contains("name")) {
      Change c;
      c.errors.push_back({"/name", "missing required key \"name\""});
      return c;
    }
    sources[body["name"]];  // so that test() finds it
    auto c = test(body["name"], limits);
    sources.erase(body["name"]);
    return c;
  }

  std::map<std::string, json> sources;
  SpoolMode last_spool = SpoolMode::kKeep;
  Status test_status;
  TestLimits last_limits;

 private:
  Result<json> set_state(const std::string& name, const char* state) {
    if (sources.count(name) == 0) return not_found("no source named \"" + name + "\"");
    sources[name]["state"] = state;
    return sources[name];
  }
};

class SourceRoutesTest : public ::testing::Test {
 protected:
  SourceRoutesTest() : server_(ApiServer::Options{}, ApiServer::Providers{}) {
    EXPECT_TRUE(add_source_routes(server_, control_).is_ok());
    control_.sources["a"] = {{"name", "a"}, {"state", "connected"}};
  }
  Response call(const std::string& method, const std::string& path, const std::string& body = {},
                std::multimap<std::string, std::string> query = {}) {
    Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.query = std::move(query);
    return server_.handle(r);
  }
  static json error_of(const Response& r) {
    const json body = json::parse(r.body);
    EXPECT_TRUE(body.contains("error")) << r.body;
    EXPECT_TRUE(body["error"]["details"].is_object()) << r.body;
    return body["error"];
  }

  FakeControl control_;
  ApiServer server_;
};

TEST_F(SourceRoutesTest, ListAndGet) {
  auto r = call("GET", "/api/sources");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["sources"][0]["name"], "a");
  r = call("GET", "/api/sources/a");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["state"], "connected");
  r = call("GET", "/api/sources/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r)["code"], "not_found");
}

TEST_F(SourceRoutesTest, PostValidatesTheBody) {
  auto r = call("POST", "/api/sources", "{\"name\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["code"], "malformed_json");
  r = call("POST", "/api/sources", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["code"], "malformed_json");
  r = call("POST", "/api/sources", "[1]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["message"], "the body must be a JSON object");
  r = call("POST", "/api/sources", R"({"name": "b", "port": "x"})");
  EXPECT_EQ(r.status, 400);
  const json e = error_of(r);
  EXPECT_EQ(e["code"], "invalid_source");
  EXPECT_EQ(e["details"]["errors"], (json::array({{{"pointer", "/port"}, {"message", "expected an integer, got \"x\""}}})));
}

TEST_F(SourceRoutesTest, PostCreatesAndRefusesADuplicate) {
  auto r = call("POST", "/api/sources", R"({"name": "b"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(json::parse(r.body)["name"], "b");
  r = call("POST", "/api/sources", R"({"name": "b"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error_of(r)["code"], "already_exists");
}

TEST_F(SourceRoutesTest, PutDeleteStartStop) {
  auto r = call("PUT", "/api/sources/a", R"({"name": "a", "x": 1})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["config"]["x"], 1);
  EXPECT_EQ(call("PUT", "/api/sources/zz", R"({"name": "zz"})").status, 404);
  EXPECT_EQ(call("POST", "/api/sources/a/stop").status, 200);
  EXPECT_EQ(control_.sources["a"]["state"], "stopped");
  EXPECT_EQ(call("POST", "/api/sources/a/start").status, 200);
  EXPECT_EQ(call("POST", "/api/sources/zz/start").status, 404);
  r = call("DELETE", "/api/sources/a", "", {{"spool", "sometimes"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["code"], "invalid_query");
  r = call("DELETE", "/api/sources/a", "", {{"spool", "drain"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(control_.last_spool, SourceControl::SpoolMode::kDrain);
  EXPECT_EQ(call("DELETE", "/api/sources/a").status, 404);
}

TEST_F(SourceRoutesTest, UnknownRoutesAndMethods) {
  auto r = call("PATCH", "/api/sources/a", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error_of(r)["code"], "method_not_allowed");
  r = call("POST", "/api/sources/a/restart");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r)["code"], "not_found");
}

// The document lists exactly the routes of the table that serves the requests.
TEST_F(SourceRoutesTest, OpenApiListsEveryRouteServed) {
  const auto r = call("GET", "/api/openapi.json");
  ASSERT_EQ(r.status, 200);
  const json doc = json::parse(r.body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::pair<std::string, std::string>> documented, served;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      documented.insert({method, path});
      EXPECT_FALSE(op["summary"].get<std::string>().empty()) << method << " " << path;
    }
  }
  for (const auto& route : server_.routes()) {
    std::string m = route.method;
    for (auto& ch : m) ch = static_cast<char>(ch - 'A' + 'a');
    served.insert({m, route.pattern});
  }
  EXPECT_EQ(documented, served);
  EXPECT_TRUE(served.count({"delete", "/api/sources/{name}"}));
  EXPECT_EQ(doc["paths"]["/api/sources/{name}"]["get"]["parameters"][0]["name"], "name");
}

TEST_F(SourceRoutesTest, TestRoutesMapOutcomesAndCheckLimits) {
  auto r = call("POST", "/api/sources/a/test");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(control_.last_limits.max_records, 10u);
  EXPECT_EQ(control_.last_limits.timeout, std::chrono::milliseconds(5000));
  r = call("POST", "/api/sources/a/test", {}, {{"max_records", "3"}, {"timeout_ms", "250"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(control_.last_limits.max_records, 3u);
  EXPECT_EQ(control_.last_limits.timeout, std::chrono::milliseconds(250));
  for (auto q : std::vector<std::multimap<std::string, std::string>>{
           {{"max_records", "0"}}, {{"max_records", "1001"}}, {{"max_records", "x"}}, {{"timeout_ms", "99"}},
           {{"timeout_ms", "30001"}}, {{"timeout_ms", "-1"}}, {{"timeout_ms", "5s"}}}) {
    r = call("POST", "/api/sources/a/test", {}, q);
    EXPECT_EQ(r.status, 400) << q.begin()->first << "=" << q.begin()->second;
    EXPECT_EQ(error_of(r)["code"], "invalid_query");
  }
  r = call("POST", "/api/sources/nope/test");
  EXPECT_EQ(r.status, 404);
  control_.test_status = Status(StatusCode::kDeadlineExceeded, "nothing read within 250 ms");
  r = call("POST", "/api/sources/a/test");
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(error_of(r)["code"], "timeout");
  EXPECT_EQ(error_of(r)["details"]["source"], "a");
  control_.test_status = unavailable("connection refused");
  r = call("POST", "/api/sources/a/test");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(error_of(r)["code"], "source_error");
  EXPECT_EQ(error_of(r)["details"]["last_error"], "connection refused");
  control_.test_status = Status(StatusCode::kResourceExhausted, "2 tests are running");
  EXPECT_EQ(call("POST", "/api/sources/a/test").status, 503);
}

TEST_F(SourceRoutesTest, TestOfABodyChecksItFirst) {
  auto r = call("POST", "/api/sources/test", "{\"name\": \"b\"}");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["source"], "b");
  EXPECT_EQ(control_.sources.count("b"), 0u);
  r = call("POST", "/api/sources/test", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["details"]["errors"][0]["pointer"], "/name");
  EXPECT_EQ(call("POST", "/api/sources/test", "[1]").status, 400);
  EXPECT_EQ(call("POST", "/api/sources/test", "{\"name\":").status, 400);
  // A source named "test" is still reachable by GET; POST .../test of the body wins.
  control_.sources["test"] = {{"name", "test"}};
  EXPECT_EQ(call("GET", "/api/sources/test").status, 200);
  EXPECT_EQ(call("POST", "/api/sources/test/test").status, 200);
}

}  // namespace
}  // namespace uc::api
