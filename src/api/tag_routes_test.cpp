// The tag routes over a real LatestValues table and a ManualClock, through
// ApiServer::handle (no sockets): views, filters, paging, errors, the catch-all path.
#include "api/tag_routes.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "api/openapi.h"

namespace uc::api {
namespace {

using json = nlohmann::json;

std::shared_ptr<const TagInfo> tag(std::string source, std::string path, std::string unit = "") {
  auto t = std::make_shared<TagInfo>();
  t->source_name = std::move(source);
  t->tag_path = std::move(path);
  t->unit = std::move(unit);
  return t;
}

class TagRoutesTest : public ::testing::Test {
 protected:
  TagRoutesTest() : clock_(1'714'557'600'000'000), server_(ApiServer::Options{}, ApiServer::Providers{}) {
    EXPECT_TRUE(add_tag_routes(server_, table_, clock_).is_ok());
  }
  Response call(const std::string& path, std::multimap<std::string, std::string> query = {}) {
    Request r;
    r.method = "GET";
    r.path = path;
    r.query = std::move(query);
    return server_.handle(r);
  }
  Record record(const std::shared_ptr<const TagInfo>& t, ValueKind kind, std::string text) {
    Record r;
    r.tag = t;
    r.value_type = kind;
    r.value_str = std::move(text);
    r.event_time = clock_.now_us() - 2'000'000;
    r.ingest_time = clock_.now_us() - 1'000'000;
    return r;
  }
  static json error_of(const Response& r) {
    const json body = json::parse(r.body);
    EXPECT_TRUE(body["error"]["details"].is_object()) << r.body;
    return body["error"];
  }

  ManualClock clock_;
  pipeline::LatestValues table_;
  pipeline::LatestValues::Writer writer_{table_};
  ApiServer server_;
};

TEST_F(TagRoutesTest, ViewCarriesValueQualityUnitAndTimes) {
  Record temp = record(tag("oven", "plant/l1/temp", "degC"), ValueKind::kDouble, "21.5");
  temp.value_num = 21.5;
  Record big = record(tag("plc", "plant/l1/count"), ValueKind::kUInt, "18446744073709551615");
  big.value_num = 1.8446744073709552e19;
  big.quality = Quality::kUncertain;
  big.status_code = 0x40000000;
  Record on = record(tag("plc", "plant/l1/on"), ValueKind::kBool, "true");
  on.value_bool = true;
  Record name = record(tag("plc", "plant/l1/name"), ValueKind::kString, "batch 7");
  Record bad = record(tag("plc", "plant/l1/dead"), ValueKind::kNull, "");
  bad.quality = Quality::kBad;
  writer_.update({temp, big, on, name, bad});

  auto r = call("/api/tags/plant/l1/temp");
  ASSERT_EQ(r.status, 200) << r.body;
  json v = json::parse(r.body);
  EXPECT_EQ(v["path"], "plant/l1/temp");
  EXPECT_EQ(v["source"], "oven");
  EXPECT_EQ(v["value"], 21.5);
  EXPECT_EQ(v["value_type"], "double");
  EXPECT_EQ(v["quality"], "good");
  EXPECT_EQ(v["unit"], "degC");
  EXPECT_EQ(v["source_time"], "2024-05-01T09:59:58.000Z");
  EXPECT_EQ(v["receive_time"], "2024-05-01T09:59:59.000Z");
  EXPECT_EQ(v["receive_time_us"], clock_.now_us() - 1'000'000);
  EXPECT_EQ(v["age_ms"], 1000);
  EXPECT_EQ(v["updates"], 1);
  clock_.advance_us(5'000'000);
  EXPECT_EQ(json::parse(call("/api/tags/plant/l1/temp").body)["age_ms"], 6000);

  v = json::parse(call("/api/tags/plant/l1/count").body);
  EXPECT_EQ(v["value"].get<std::uint64_t>(), 18446744073709551615ull);  // all 64 bits
  EXPECT_EQ(v["quality"], "uncertain");
  EXPECT_EQ(v["status_code"], 0x40000000);
  EXPECT_FALSE(v.contains("unit"));
  EXPECT_EQ(json::parse(call("/api/tags/plant/l1/on").body)["value"], true);
  EXPECT_EQ(json::parse(call("/api/tags/plant/l1/name").body)["value"], "batch 7");
  v = json::parse(call("/api/tags/plant/l1/dead").body);
  EXPECT_TRUE(v["value"].is_null());
  EXPECT_EQ(v["quality"], "bad");
}

TEST_F(TagRoutesTest, UnknownPathIs404) {
  auto r = call("/api/tags/plant/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r)["code"], "not_found");
  EXPECT_EQ(error_of(r)["details"]["path"], "plant/nothing");
}

TEST_F(TagRoutesTest, ListFiltersAndPages) {
  std::vector<Record> records;
  for (int i = 0; i < 30; ++i) {
    char path[32];
    std::snprintf(path, sizeof path, "p/l%d/t%02d", i % 3, i);
    records.push_back(record(tag(i < 10 ? "a" : "b", path), ValueKind::kInt, std::to_string(i)));
  }
  writer_.update(records);

  json body = json::parse(call("/api/tags").body);
  EXPECT_EQ(body["total"], 30);
  EXPECT_EQ(body["offset"], 0);
  EXPECT_EQ(body["limit"], 100);
  EXPECT_EQ(body["tags"].size(), 30u);
  EXPECT_EQ(body["tags"][0]["path"], "p/l0/t00");
  EXPECT_EQ(body["tags"][0]["value"], 0);
  EXPECT_EQ(body["capacity"], pipeline::LatestValues::kDefaultCapacity);

  body = json::parse(call("/api/tags", {{"source", "a"}}).body);
  EXPECT_EQ(body["total"], 10);
  body = json::parse(call("/api/tags", {{"prefix", "p/l1/"}, {"limit", "3"}, {"offset", "2"}}).body);
  EXPECT_EQ(body["total"], 10);
  ASSERT_EQ(body["tags"].size(), 3u);
  EXPECT_EQ(body["tags"][0]["path"], "p/l1/t07");
  body = json::parse(call("/api/tags", {{"glob", "**/t2?"}, {"source", "b"}}).body);
  EXPECT_EQ(body["total"], 10);
  body = json::parse(call("/api/tags", {{"glob", "p/*/t0*"}, {"source", "b"}}).body);
  EXPECT_EQ(body["total"], 0);
  body = json::parse(call("/api/tags", {{"limit", "1000"}}).body);
  EXPECT_EQ(body["limit"], 1000);
}

TEST_F(TagRoutesTest, MalformedQueryIs400WithTheParameter) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"limit", "1001"}, {"limit", "-1"}, {"limit", "ten"}, {"limit", ""},        {"offset", "1e3"},
      {"offset", "99999999999999999999999"}, {"glob", ""}, {"glob", "a//b"}, {"glob", "a**"},
      {"glob", std::string(2000, '*')},      {"prefix", std::string(2000, 'p')},  {"sources", "a"}};
  for (const auto& [name, value] : bad) {
    auto r = call("/api/tags", {{name, value}});
    EXPECT_EQ(r.status, 400) << name << "=" << value.substr(0, 20);
    EXPECT_EQ(error_of(r)["code"], "invalid_query");
    EXPECT_EQ(error_of(r)["details"]["parameter"], name);
  }
}

TEST_F(TagRoutesTest, OpenApiListsTheCatchAllAsOnePathParameter) {
  Request req;
  req.method = "GET";
  req.path = "/api/openapi.json";
  const json doc = json::parse(server_.handle(req).body);
  ASSERT_TRUE(doc["paths"].contains("/api/tags/{path}"));
  ASSERT_TRUE(doc["paths"].contains("/api/tags"));
  EXPECT_EQ(doc["paths"]["/api/tags/{path}"]["get"]["parameters"][0]["name"], "path");
  std::set<std::string> documented, served;
  for (const auto& [path, ops] : doc["paths"].items()) documented.insert(path);
  for (const auto& route : server_.routes()) served.insert(openapi_path(route.pattern));
  EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace uc::api
