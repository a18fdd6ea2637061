// The token client against a real HTTP token endpoint on loopback (cpp-httplib).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "sinks/zerobus/token.h"

namespace uc::sinks::zerobus {
namespace {

// A real HTTP token endpoint on loopback.
class TokenServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post("/oidc/v1/token", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      last_auth_ = req.get_header_value("Authorization");
      last_table_ = nlohmann::json::parse(req.get_param_value("authorization_details"))[2]["object_full_path"];
      if (mode_ == 4) {
        res.status = 401;
        res.set_content(R"({"error":"invalid_client"})", "application/json");
      } else if (mode_ == 5) {
        res.status = 503;
      } else if (mode_ == 6) {
        res.set_content(std::string(100'000, 'x'), "application/json");
      } else {
        res.set_content(R"({"access_token":"tok-)" + std::to_string(requests_.load()) + R"(","expires_in":)" +
                            std::to_string(lifetime_s_) + "}",
                        "application/json");
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  TokenProvider provider() { return TokenProvider("http://127.0.0.1:" + std::to_string(port_), "42", "id", "se:cret"); }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> mode_{0};
  int lifetime_s_ = 3600;
  std::string last_auth_, last_table_;
};

TEST_F(TokenServer, FetchesWithBasicAuthAndCachesPerTable) {
  TokenProvider p = provider();
  auto a = p.get("c.s.t1", 0);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(*a, "tok-1");
  EXPECT_EQ(last_auth_, "Basic aWQ6c2U6Y3JldA==");  // base64("id:se:cret")
  EXPECT_EQ(last_table_, "c.s.t1");
  EXPECT_EQ(*p.get("c.s.t1", 1'000'000), "tok-1");  // cached
  EXPECT_EQ(*p.get("c.s.t2", 1'000'000), "tok-2");  // one token per table
  EXPECT_EQ(p.fetched(), 2u);
  p.invalidate("c.s.t1");
  EXPECT_EQ(*p.get("c.s.t1", 2'000'000), "tok-3");
}

TEST_F(TokenServer, RefreshesBeforeExpiry) {
  lifetime_s_ = 3600;
  TokenProvider p = provider();
  EXPECT_EQ(*p.get("c.s.t", 0), "tok-1");
  EXPECT_EQ(*p.get("c.s.t", (3600 - 301) * 1'000'000LL), "tok-1");
  EXPECT_EQ(*p.get("c.s.t", (3600 - 299) * 1'000'000LL), "tok-2");  // inside the 5 min margin
}

TEST_F(TokenServer, ClientErrorsAreNotRetryableServerErrorsAre) {
  TokenProvider p = provider();
  mode_ = 4;
  auto r = p.get("c.s.t", 0);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(r.status().is_retryable());
  EXPECT_NE(r.status().message().find("HTTP 401"), std::string::npos);
  mode_ = 5;
  EXPECT_TRUE(p.get("c.s.t", 0).status().is_retryable());
  mode_ = 6;
  r = p.get("c.s.t", 0);
  EXPECT_TRUE(r.status().is_retryable());
  EXPECT_NE(r.status().message().find("64 KiB"), std::string::npos);
}

TEST(TokenNetwork, ConnectionRefusedIsRetryable) {
  TokenProvider p("http://127.0.0.1:1", "42", "id", "secret", 2000);  // nothing listens on port 1
  auto r = p.get("c.s.t", 0);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace uc::sinks::zerobus
