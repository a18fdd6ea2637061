#include "sinks/zerobus/token.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "sinks/zerobus/config.h"

namespace uc::sinks::zerobus {
namespace {

TEST(Token, WorkspaceIdIsTheFirstLabel) {
  EXPECT_EQ(workspace_id_from_endpoint("1234567890123456.zerobus.us-west-2.cloud.databricks.com"), "1234567890123456");
  EXPECT_EQ(workspace_id_from_endpoint("https://42.zerobus.eu-west-1.cloud.databricks.com:443"), "42");
  EXPECT_EQ(workspace_id_from_endpoint("localhost:5000"), "localhost");
  EXPECT_EQ(workspace_id_from_endpoint(""), "");
}

TEST(Token, GrpcTargetAddsTheDefaultPort) {
  EXPECT_EQ(grpc_target("https://1.zerobus.x.cloud.databricks.com"), "1.zerobus.x.cloud.databricks.com:443");
  EXPECT_EQ(grpc_target("127.0.0.1:7001"), "127.0.0.1:7001");
  EXPECT_EQ(grpc_target("[::1]:7001"), "[::1]:7001");
}

TEST(Token, TableNameMustHaveThreeParts) {
  Options o;
  o.endpoint = "e";
  o.workspace_host = "http://h";
  o.table = "a.b.c";
  EXPECT_TRUE(validate(o).is_ok());
  for (const char* bad : {"a.b", "a..c", ".b.c", "a.b.c.d", ""}) {
    o.table = bad;
    EXPECT_FALSE(validate(o).is_ok()) << bad;
  }
}

TEST(Token, FormCarriesTheTableScopedAuthorizationDetails) {
  std::string form = token_form("42", "cat.sch.tbl");
  httplib::Params params;
  httplib::detail::parse_query_text(form, params);
  EXPECT_EQ(params.find("grant_type")->second, "client_credentials");
  EXPECT_EQ(params.find("scope")->second, "all-apis");
  EXPECT_EQ(params.find("resource")->second, "api://databricks/workspaces/42/zerobusDirectWriteApi");
  auto details = nlohmann::json::parse(params.find("authorization_details")->second);
  ASSERT_EQ(details.size(), 3u);
  EXPECT_EQ(details[0]["object_full_path"], "cat");
  EXPECT_EQ(details[1]["object_full_path"], "cat.sch");
  EXPECT_EQ(details[2]["object_full_path"], "cat.sch.tbl");
  EXPECT_EQ(details[2]["privileges"], nlohmann::json({"SELECT", "MODIFY"}));
}

TEST(Token, ParsesAndRejectsMalformedResponses) {
  auto ok = parse_token_response(R"({"access_token":"abc","expires_in":120,"token_type":"Bearer"})", 1000);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->access_token, "abc");
  EXPECT_EQ(ok->expires_at_us, 1000 + 120'000'000);
  EXPECT_EQ(parse_token_response(R"({"access_token":"abc"})", 0)->lifetime_us, 3600'000'000);
  EXPECT_EQ(parse_token_response(R"({"access_token":"abc","expires_in":-5})", 0)->lifetime_us, 1'000'000);
  // Out of any integer's range (found by the zerobus_token fuzz target: the cast was UB).
  EXPECT_EQ(parse_token_response(R"({"access_token":"abc","expires_in":1e30})", 0)->lifetime_us, 86'400'000'000);
  EXPECT_EQ(parse_token_response(R"({"access_token":"abc","expires_in":-1e30})", 0)->lifetime_us, 1'000'000);
  EXPECT_EQ(parse_token_response(R"({"access_token":"abc","expires_in":18446744073709551615})", 0)->lifetime_us,
            86'400'000'000);
  for (const char* bad : {"", "{", "[]", "null", R"({"access_token":5})", R"({"access_token":""})",
                          R"({"token":"x"})", R"({"access_token":"x","expires_in":"soon"})",
                          R"({"access_token":"abc","expires_in":1)"}) {
    auto r = parse_token_response(bad, 0);
    EXPECT_FALSE(r.is_ok()) << bad;
  }
  EXPECT_FALSE(parse_token_response(std::string(70'000, ' '), 0).is_ok());
}

}  // namespace
}  // namespace uc::sinks::zerobus
