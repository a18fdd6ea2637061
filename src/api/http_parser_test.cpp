#include "api/http_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace uc::api {
namespace {

using State = RequestParser::State;

struct Outcome {
  State state;
  int status;
  std::size_t used;
};

Outcome parse_all(const std::string& bytes, HttpLimits limits = {}) {
  RequestParser p(limits);
  const std::size_t used = p.feed(bytes);
  return {p.state(), p.error_status(), used};
}

const std::string kPost =
    "POST /api/sources/a%20b?x=1&y=hello+world&flag HTTP/1.1\r\n"
    "Host: example\r\n"
    "Content-Type: application/json\r\n"
    "X-Mixed-Case:   padded value  \r\n"
    "Content-Length: 11\r\n"
    "\r\n"
    "{\"a\":\"b c\"}";

TEST(HttpParser, ParsesARequestWithQueryHeadersAndBody) {
  RequestParser p;
  EXPECT_EQ(p.feed(kPost), kPost.size());
  ASSERT_EQ(p.state(), State::kComplete);
  EXPECT_EQ(p.error_status(), 0);
  const auto& r = p.request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/sources/a b");
  EXPECT_EQ(r.query.find("x")->second, "1");
  EXPECT_EQ(r.query.find("y")->second, "hello world");
  EXPECT_EQ(r.query.find("flag")->second, "");
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers[2].first, "x-mixed-case");
  EXPECT_EQ(r.headers[2].second, "padded value");
  EXPECT_EQ(r.body, "{\"a\":\"b c\"}");
  EXPECT_TRUE(r.keep_alive);
}

TEST(HttpParser, AnySplitOfTheBytesGivesTheSameRequest) {
  for (std::size_t cut = 0; cut <= kPost.size(); ++cut) {
    RequestParser p;
    const std::size_t first = p.feed(kPost.substr(0, cut));
    EXPECT_EQ(first, cut);
    if (cut < kPost.size()) {
      EXPECT_EQ(p.state(), State::kNeedMore) << "cut at " << cut;
      EXPECT_EQ(p.feed(kPost.substr(cut)), kPost.size() - cut);
    }
    ASSERT_EQ(p.state(), State::kComplete) << "cut at " << cut;
    EXPECT_EQ(p.request().body, "{\"a\":\"b c\"}");
  }
  RequestParser bytewise;
  for (char c : kPost) bytewise.feed(std::string(1, c));
  ASSERT_EQ(bytewise.state(), State::kComplete);
  EXPECT_EQ(bytewise.request().path, "/api/sources/a b");
}

TEST(HttpParser, PipelinedRequestsAreFramedOneAtATime) {
  const std::string one = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string two = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  RequestParser p;
  const std::string both = one + two;
  EXPECT_EQ(p.feed(both), one.size());
  EXPECT_EQ(p.request().path, "/a");
  p.reset();
  EXPECT_EQ(p.feed(std::string_view(both).substr(one.size())), two.size());
  EXPECT_EQ(p.state(), State::kComplete);
  EXPECT_EQ(p.request().path, "/b");
}

TEST(HttpParser, ChunkedBodiesWithExtensionsAndTrailers) {
  const std::string req =
      "PUT /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n1 \r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (std::size_t cut = 0; cut <= req.size(); ++cut) {
    RequestParser p;
    p.feed(req.substr(0, cut));
    p.feed(req.substr(cut));
    ASSERT_EQ(p.state(), State::kComplete) << cut;
    EXPECT_EQ(p.request().body, "hello world!");
  }
}

TEST(HttpParser, WithoutLengthOrChunkingThereIsNoBody) {
  RequestParser p;
  const std::string req = "POST /x HTTP/1.1\r\nHost: x\r\n\r\nleftover";
  EXPECT_EQ(p.feed(req), req.size() - 8);
  EXPECT_EQ(p.state(), State::kComplete);
  EXPECT_EQ(p.request().body, "");
}

TEST(HttpParser, ConnectionPersistenceFollowsTheVersion) {
  auto keep = [](const std::string& req) {
    RequestParser p;
    p.feed(req);
    EXPECT_EQ(p.state(), State::kComplete) << req;
    return p.request().keep_alive;
  };
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
}

TEST(HttpParser, OneLeadingEmptyLineIsIgnoredTwoAreAnError) {
  EXPECT_EQ(parse_all("\r\nGET / HTTP/1.1\r\n\r\n").state, State::kComplete);
  EXPECT_EQ(parse_all("\r\n\r\nGET / HTTP/1.1\r\n\r\n").status, 400);
}

TEST(HttpParser, ExpectContinueIsReported) {
  RequestParser p;
  p.feed("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(p.state(), State::kNeedMore);
  EXPECT_TRUE(p.awaiting_body());
  EXPECT_TRUE(p.request().expects_continue);
}

struct BadCase {
  const char* what;
  std::string bytes;
  int status;
};

TEST(HttpParser, MalformedRequestsAreRefusedWithTheRightStatus) {
  const BadCase cases[] = {
      {"HTTP/0.9 request line", "GET /health\r\n\r\n", 400},
      {"unknown method", "BREW /pot HTTP/1.1\r\n\r\n", 501},
      {"method not a token", "G(T / HTTP/1.1\r\n\r\n", 400},
      {"HTTP/2", "GET / HTTP/2.0\r\n\r\n", 505},
      {"garbage version", "GET / HTTX/1.1\r\n\r\n", 400},
      {"bare LF", "GET / HTTP/1.1\n\n", 400},
      {"absolute form", "GET http://x/ HTTP/1.1\r\n\r\n", 400},
      {"asterisk", "OPTIONS * HTTP/1.1\r\n\r\n", 400},
      {"control char in target", "GET /a\x01 HTTP/1.1\r\n\r\n", 400},
      {"bad escape", "GET /a%zz HTTP/1.1\r\n\r\n", 400},
      {"cut escape", "GET /a%4 HTTP/1.1\r\n\r\n", 400},
      {"encoded NUL", "GET /a%00b HTTP/1.1\r\n\r\n", 400},
      {"bad escape in query", "GET /a?x=%g1 HTTP/1.1\r\n\r\n", 400},
      {"negative length", "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400},
      {"signed length", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400},
      {"length list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400},
      {"huge length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"two lengths", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {"length and chunked", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"chunked then length", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
      {"gzip coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"chunked in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"folded header", "GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n", 400},
      {"space in name", "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"no colon", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
      {"control char in value", "GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n", 400},
      {"bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"empty chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400},
      {"chunk size too long", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", 400},
      {"chunk overrun", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400},
  };
  for (const auto& c : cases) {
    const Outcome o = parse_all(c.bytes);
    EXPECT_EQ(o.state, State::kError) << c.what;
    EXPECT_EQ(o.status, c.status) << c.what;
  }
}

TEST(HttpParser, SizeLimitsGive414And431) {
  HttpLimits limits;
  EXPECT_EQ(parse_all("GET /" + std::string(limits.max_target_bytes, 'a') + " HTTP/1.1\r\n\r\n").status, 414);
  // A target that never ends is refused as soon as it is too long, not at its end.
  const Outcome endless = parse_all("GET /" + std::string(100'000, 'a'));
  EXPECT_EQ(endless.status, 414);
  EXPECT_LT(endless.used, 10'000u);
  EXPECT_EQ(parse_all("GET / HTTP/1.1\r\nX-Big: " + std::string(10 * 1024 * 1024, 'a') + "\r\n\r\n").status, 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse_all(many + "\r\n").status, 431);
  const std::string longest = "GET /" + std::string(limits.max_target_bytes - 1, 'a') + " HTTP/1.1\r\n\r\n";
  EXPECT_EQ(parse_all(longest).state, State::kComplete);
}

TEST(HttpParser, ABodyOverTheLimitIsDrainedAndAnswered413) {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  const std::string req = "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n" + std::string(20, 'z') + "GET";
  const Outcome o = parse_all(req, limits);
  EXPECT_EQ(o.state, State::kComplete);
  EXPECT_EQ(o.status, 413);
  EXPECT_EQ(o.used, req.size() - 3);

  std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) chunked += "4\r\nabcd\r\n";
  chunked += "0\r\n\r\n";
  const Outcome c = parse_all(chunked, limits);
  EXPECT_EQ(c.state, State::kComplete);
  EXPECT_EQ(c.status, 413);
  EXPECT_EQ(c.used, chunked.size());

  limits.max_drain_bytes = 100;
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits).state, State::kError);
}

TEST(HttpParser, MultipartAndEncodedBodiesAre415AfterDraining) {
  const std::string multipart = "POST / HTTP/1.1\r\nContent-Type: Multipart/form-data; b=x\r\nContent-Length: 3\r\n\r\nabc";
  const Outcome m = parse_all(multipart);
  EXPECT_EQ(m.state, State::kComplete);
  EXPECT_EQ(m.status, 415);
  EXPECT_EQ(m.used, multipart.size());
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n").status, 415);
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Encoding: identity\r\nContent-Length: 0\r\n\r\n").status, 0);
}

TEST(HttpParser, RandomBytesNeverCrashAndAlwaysEndOrWait) {
  std::uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = round % 2 == 0 ? kPost : "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n";
    for (int k = 0; k < 4; ++k) {
      x = x * 1664525u + 1013904223u;
      bytes[x % bytes.size()] = static_cast<char>(x >> 24);
    }
    RequestParser p;
    const std::size_t used = p.feed(bytes);
    EXPECT_LE(used, bytes.size());
    if (p.state() == State::kNeedMore) {
      EXPECT_EQ(used, bytes.size());
    }
  }
}

TEST(HttpParser, PercentDecoding) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%2Fb+c", false, &out));
  EXPECT_EQ(out, "a/b+c");
  EXPECT_TRUE(percent_decode("a+b%41", true, &out));
  EXPECT_EQ(out, "a bA");
  EXPECT_FALSE(percent_decode("%", true, &out));
  EXPECT_FALSE(percent_decode("%a", true, &out));
  EXPECT_FALSE(percent_decode("%00", true, &out));
}

}  // namespace
}  // namespace uc::api
