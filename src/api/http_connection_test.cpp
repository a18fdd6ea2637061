#include "api/http_connection.h"

#include <gtest/gtest.h>

#include <string>

namespace uc::api {
namespace {

using Phase = HttpConnection::Phase;

constexpr std::int64_t kMs = 1000;

HttpTimeouts timeouts() {
  HttpTimeouts t;
  t.request_us = 10'000 * kMs;
  t.idle_us = 5'000 * kMs;
  t.write_us = 7'000 * kMs;
  t.linger_us = 1'000 * kMs;
  return t;
}

// Writes everything the connection has to send and returns it.
std::string drain(HttpConnection& c, std::int64_t now) {
  std::string out(c.output());
  c.on_sent(out.size(), now);
  return out;
}

TEST(HttpConnection, AnIdleConnectionIsClosedAfterTheIdleTimeoutOnly) {
  HttpConnection c({}, timeouts(), 0);
  EXPECT_TRUE(c.idle());
  EXPECT_EQ(c.deadline_us(), 5'000 * kMs);
  c.on_tick(4'999 * kMs);
  EXPECT_FALSE(c.closed());
  c.on_tick(5'000 * kMs);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.end_reason(), "idle");
}

TEST(HttpConnection, ATricklingRequestGets408AtItsDeadlineWhateverItSends) {
  HttpConnection c({}, timeouts(), 0);
  const std::string partial = "GET /health HTTP/1.1\r\nX-Slow: " + std::string(100, 'a');
  std::int64_t now = 1'000 * kMs;
  for (char ch : partial) {  // one byte per 300 ms: every read is "recent"
    c.on_bytes(std::string(1, ch), now);
    EXPECT_FALSE(c.idle());
    now += 300 * kMs;
    c.on_tick(now);
    if (c.phase() != Phase::kReading) break;
  }
  EXPECT_EQ(c.phase(), Phase::kWriting);
  EXPECT_GE(now, 11'000 * kMs);  // request_us after the first byte
  EXPECT_LT(now, 11'400 * kMs);
  const std::string out = drain(c, now);
  EXPECT_EQ(out.rfind("HTTP/1.1 408 ", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.wants_shutdown());
  c.on_tick(now + 1'000 * kMs);
  EXPECT_TRUE(c.closed());
}

TEST(HttpConnection, RequestResponseThenThePipelinedNextRequest) {
  HttpConnection c({}, timeouts(), 0);
  c.on_bytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 10);
  auto first = c.take_request();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->path, "/a");
  EXPECT_FALSE(c.take_request());  // one at a time
  EXPECT_FALSE(c.wants_read());
  EXPECT_EQ(c.deadline_us(), INT64_MAX);  // the handler owns its time
  c.on_response(Response::json({{"ok", true}}), 20);
  const std::string out = drain(c, 30);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 11), "{\"ok\":true}");
  auto second = c.take_request();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->path, "/b");
}

TEST(HttpConnection, ConnectionCloseHalfClosesThenLingers) {
  HttpConnection c({}, timeouts(), 0);
  c.on_bytes("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0);
  ASSERT_TRUE(c.take_request());
  c.on_response(Response::json({}), 0);
  EXPECT_NE(drain(c, 0).find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.wants_shutdown());
  EXPECT_TRUE(c.wants_read());  // and drops what still comes
  c.on_bytes("junk", 10);
  c.on_peer_eof(20);
  EXPECT_TRUE(c.closed());
}

TEST(HttpConnection, HeadHasTheHeadersWithoutTheBody) {
  HttpConnection c({}, timeouts(), 0);
  c.on_bytes("HEAD /x HTTP/1.1\r\n\r\n", 0);
  ASSERT_TRUE(c.take_request());
  c.on_response(Response::json({{"k", "v"}}), 0);
  const std::string out = drain(c, 0);
  EXPECT_NE(out.find("Content-Length: 9\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(HttpConnection, ExpectContinueIsAnsweredBeforeTheBody) {
  HttpConnection c({}, timeouts(), 0);
  c.on_bytes("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", 0);
  EXPECT_EQ(drain(c, 0), "HTTP/1.1 100 Continue\r\n\r\n");
  c.on_bytes("ok", 0);
  auto r = c.take_request();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
}

TEST(HttpConnection, ExpectContinueWithATooLargeBodyIsRefusedAtOnce) {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  HttpConnection c(limits, timeouts(), 0);
  c.on_bytes("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n", 0);
  const std::string out = drain(c, 0);
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
  EXPECT_TRUE(c.wants_shutdown());
}

TEST(HttpConnection, ARefusedButDrainedBodyKeepsTheConnection) {
  HttpLimits limits;
  limits.max_body_bytes = 4;
  HttpConnection c(limits, timeouts(), 0);
  c.on_bytes("POST /x HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678GET /y HTTP/1.1\r\n\r\n", 0);
  const std::string out = drain(c, 0);
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u);
  EXPECT_EQ(out.find("Connection: close"), std::string::npos);
  auto next = c.take_request();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->path, "/y");
}

TEST(HttpConnection, AFramingErrorIsAnsweredAndCloses) {
  HttpConnection c({}, timeouts(), 0);
  c.on_bytes("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 0);
  const std::string out = drain(c, 0);
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_NE(out.find("Content-Length must be a decimal"), std::string::npos);
  EXPECT_TRUE(c.wants_shutdown());
}

TEST(HttpConnection, TheClientLeavingMidRequestOrWhileHandled) {
  HttpConnection partial({}, timeouts(), 0);
  partial.on_bytes("GET /x HT", 0);
  partial.on_peer_eof(0);
  EXPECT_EQ(drain(partial, 0).rfind("HTTP/1.1 400 ", 0), 0u);

  HttpConnection handled({}, timeouts(), 0);
  handled.on_bytes("GET /x HTTP/1.1\r\n\r\n", 0);
  ASSERT_TRUE(handled.take_request());
  handled.on_peer_eof(0);  // a half-close: it still reads the answer
  handled.on_response(Response::json({}), 0);
  const std::string out = drain(handled, 0);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 ", 0), 0u);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);

  HttpConnection quiet({}, timeouts(), 0);
  quiet.on_peer_eof(0);
  EXPECT_TRUE(quiet.closed());
}

TEST(HttpConnection, AStalledWriteIsDroppedAfterTheWriteTimeout) {
  HttpConnection c({}, timeouts(), 0);
  c.on_bytes("GET / HTTP/1.1\r\n\r\n", 0);
  ASSERT_TRUE(c.take_request());
  c.on_response(Response::text(std::string(100'000, 'x'), "text/plain"), 0);
  c.on_sent(1000, 3'000 * kMs);  // progress moves the deadline
  c.on_tick(9'000 * kMs);
  EXPECT_FALSE(c.closed());
  c.on_tick(10'000 * kMs);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.end_reason(), "write timeout");
}

TEST(HttpConnection, Http10GetsAnHttp10StatusLine) {
  HttpConnection c({}, timeouts(), 0);
  c.on_bytes("GET / HTTP/1.0\r\n\r\n", 0);
  ASSERT_TRUE(c.take_request());
  c.on_response(Response::json({}), 0);
  const std::string out = drain(c, 0);
  EXPECT_EQ(out.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_TRUE(c.wants_shutdown());
}

}  // namespace
}  // namespace uc::api
