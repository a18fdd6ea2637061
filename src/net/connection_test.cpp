// net::Connection, Listener, Waker and wait_for on real loopback sockets, plain TCP.
#include <gtest/gtest.h>
#include <poll.h>

#include <numeric>
#include <thread>
#include <vector>

#include "net/connection.h"
#include "net/listener.h"
#include "net/waker.h"

namespace uc::net {
namespace {

constexpr std::int64_t kLongMs = 10'000;  // for what must succeed: only a broken test waits this long

struct Pair {
  Listener listener;
  Connection client;
  Connection server;
};

Pair connected_pair() {
  Pair p;
  auto l = Listener::listen("127.0.0.1", 0);
  EXPECT_TRUE(l.is_ok()) << l.status().to_string();
  p.listener = std::move(*l);
  auto c = Connection::connect("127.0.0.1", p.listener.port(), deadline_in_ms(kLongMs));
  EXPECT_TRUE(c.is_ok()) << c.status().to_string();
  p.client = std::move(*c);
  auto s = p.listener.accept(deadline_in_ms(kLongMs));
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  p.server = std::move(*s);
  return p;
}

// Reads exactly n bytes or fails the test.
std::string read_exactly(Connection& c, std::size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    const ReadResult r = c.read_some(std::span(buf, std::min(sizeof buf, n - out.size())), deadline_in_ms(kLongMs));
    if (!r.has_data()) {
      ADD_FAILURE() << "read: " << r.status.to_string();
      break;
    }
    out.append(buf, r.size);
  }
  return out;
}

// A listener whose accept queue is full: the kernel drops further SYNs, so a connect to
// it stays in progress. Filled by connecting until one connect does not complete.
struct FullListener {
  Listener listener;
  std::vector<Connection> queued;
};

FullListener full_listener() {
  FullListener f;
  auto l = Listener::listen("127.0.0.1", 0, /*backlog=*/0);
  EXPECT_TRUE(l.is_ok());
  f.listener = std::move(*l);
  for (int i = 0; i < 16; ++i) {
    auto c = Connection::connect("127.0.0.1", f.listener.port(), deadline_in_ms(200));
    if (!c.is_ok()) return f;
    f.queued.push_back(std::move(*c));
  }
  ADD_FAILURE() << "the accept queue never filled";
  return f;
}

TEST(NetConnection, SendsAndReadsBothWaysOnLoopback) {
  Pair p = connected_pair();
  ASSERT_TRUE(p.client.is_open());
  ASSERT_TRUE(p.client.send_all(std::string_view("hello"), deadline_in_ms(kLongMs)).is_ok());
  EXPECT_EQ(read_exactly(p.server, 5), "hello");
  ASSERT_TRUE(p.server.send_all(std::string_view("world!"), deadline_in_ms(kLongMs)).is_ok());
  EXPECT_EQ(read_exactly(p.client, 6), "world!");
  EXPECT_FALSE(p.client.is_tls());
  EXPECT_FALSE(p.client.pending());
}

TEST(NetConnection, ConnectsByNameAndToIpv6Loopback) {
  auto l = Listener::listen("::1", 0);
  if (!l.is_ok()) GTEST_SKIP() << "no IPv6 loopback: " << l.status().to_string();
  auto c = Connection::connect("::1", l->port(), deadline_in_ms(kLongMs));
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_TRUE(l->accept(deadline_in_ms(kLongMs)).is_ok());
}

TEST(NetConnection, RefusedConnectIsUnavailable) {
  int port = 0;
  {
    auto l = Listener::listen("127.0.0.1", 0);
    ASSERT_TRUE(l.is_ok());
    port = l->port();
  }  // closed: nothing listens there now
  auto c = Connection::connect("127.0.0.1", port, deadline_in_ms(kLongMs));
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("refused"), std::string::npos) << c.status().message();
  EXPECT_TRUE(c.status().is_retryable());
}

TEST(NetConnection, ConnectTimesOutAtItsDeadline) {
  FullListener f = full_listener();
  const std::int64_t t0 = steady_now_us();
  auto c = Connection::connect("127.0.0.1", f.listener.port(), deadline_in_ms(100));
  const std::int64_t waited_us = steady_now_us() - t0;
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("timed out"), std::string::npos) << c.status().message();
  EXPECT_GE(waited_us, 100'000);
  EXPECT_LT(waited_us, 5'000'000);
}

TEST(NetConnection, WakerCancelsAConnectInProgress) {
  FullListener f = full_listener();
  Waker waker;
  std::thread canceller([&] { waker.wake(); });
  auto c = Connection::connect("127.0.0.1", f.listener.port(), kNoDeadline, {}, &waker);
  canceller.join();
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCancelled) << c.status().to_string();
}

TEST(NetConnection, WokenWakerCancelsBeforeAnyIo) {
  Pair p = connected_pair();
  ASSERT_TRUE(p.server.send_all(std::string_view("x"), deadline_in_ms(kLongMs)).is_ok());
  Waker waker;
  waker.wake();
  char buf[8];
  EXPECT_EQ(p.client.read_some(std::span(buf), kNoDeadline, &waker).kind, ReadResult::Kind::kCancelled);
  EXPECT_EQ(p.client.send_all(std::string_view("y"), kNoDeadline, &waker).code(), StatusCode::kCancelled);
  auto c = Connection::connect("127.0.0.1", p.listener.port(), kNoDeadline, {}, &waker);
  EXPECT_EQ(c.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(p.listener.accept(kNoDeadline, &waker).status().code(), StatusCode::kCancelled);
}

TEST(NetConnection, WakerCancelsABlockedReadAndResetMakesTheConnectionUsableAgain) {
  Pair p = connected_pair();
  Waker waker;
  std::thread canceller([&] { waker.wake(); });
  char buf[16];
  const ReadResult r = p.client.read_some(std::span(buf), kNoDeadline, &waker);
  canceller.join();
  EXPECT_EQ(r.kind, ReadResult::Kind::kCancelled);
  EXPECT_EQ(r.status.code(), StatusCode::kCancelled);

  waker.reset();
  EXPECT_FALSE(waker.woken());
  ASSERT_TRUE(p.server.send_all(std::string_view("after"), deadline_in_ms(kLongMs)).is_ok());
  const ReadResult again = p.client.read_some(std::span(buf), deadline_in_ms(kLongMs), &waker);
  ASSERT_TRUE(again.has_data()) << again.status.to_string();
  EXPECT_EQ(std::string(buf, again.size), "after");
}

TEST(NetConnection, ReadTimesOutAndAPastDeadlineDoesNotWait) {
  Pair p = connected_pair();
  char buf[16];
  const std::int64_t t0 = steady_now_us();
  const ReadResult r = p.client.read_some(std::span(buf), deadline_in_ms(50));
  EXPECT_EQ(r.kind, ReadResult::Kind::kTimedOut);
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_GE(steady_now_us() - t0, 50'000);

  EXPECT_EQ(p.client.read_some(std::span(buf), /*deadline=*/0).kind, ReadResult::Kind::kTimedOut);
  EXPECT_EQ(p.client.wait_readable(0), WaitResult::kTimedOut);
  ASSERT_TRUE(p.server.send_all(std::string_view("now"), deadline_in_ms(kLongMs)).is_ok());
  EXPECT_EQ(p.client.wait_readable(deadline_in_ms(kLongMs)), WaitResult::kReady);
  const ReadResult now = p.client.read_some(std::span(buf), /*deadline=*/0);
  ASSERT_TRUE(now.has_data());
  EXPECT_EQ(std::string(buf, now.size), "now");
}

TEST(NetConnection, PeerCloseIsReportedAsClosed) {
  Pair p = connected_pair();
  ASSERT_TRUE(p.server.send_all(std::string_view("bye"), deadline_in_ms(kLongMs)).is_ok());
  p.server.close();
  EXPECT_FALSE(p.server.is_open());
  EXPECT_EQ(read_exactly(p.client, 3), "bye");
  char buf[16];
  const ReadResult r = p.client.read_some(std::span(buf), deadline_in_ms(kLongMs));
  EXPECT_EQ(r.kind, ReadResult::Kind::kClosed);
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
}

TEST(NetConnection, SendToAClosedPeerFailsWithoutSignal) {
  Pair p = connected_pair();
  p.server.close();
  const std::vector<std::uint8_t> chunk(1 << 16, 1);
  Status st;
  // The first sends may still be taken by the kernel; a reset follows within a few.
  for (int i = 0; i < 64 && st.is_ok(); ++i) st = p.client.send_all(chunk, deadline_in_ms(kLongMs));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.to_string();
}

TEST(NetConnection, LargeSendArrivesWhole) {
  Pair p = connected_pair();
  std::vector<std::uint8_t> data(8 << 20);
  std::iota(data.begin(), data.end(), std::uint8_t{7});
  std::uint64_t received_sum = 0;
  std::size_t received = 0;
  std::thread reader([&] {
    std::vector<std::uint8_t> buf(65536);
    while (received < data.size()) {
      const ReadResult r = p.server.read_some(std::span(buf), deadline_in_ms(kLongMs));
      if (!r.has_data()) break;
      for (std::size_t i = 0; i < r.size; ++i) received_sum += buf[i] * ((received + i) % 251 + 1);
      received += r.size;
    }
  });
  const Status st = p.client.send_all(data, deadline_in_ms(kLongMs));
  reader.join();
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  std::uint64_t expected_sum = 0;
  for (std::size_t i = 0; i < data.size(); ++i) expected_sum += data[i] * (i % 251 + 1);
  EXPECT_EQ(received, data.size());
  EXPECT_EQ(received_sum, expected_sum);
}

TEST(NetConnection, SendToAPeerThatDoesNotReadTimesOutOrIsCancelled) {
  Pair p = connected_pair();
  const std::vector<std::uint8_t> big(64 << 20, 0);  // more than the socket buffers hold
  const Status timed_out = p.client.send_all(big, deadline_in_ms(100));
  EXPECT_EQ(timed_out.code(), StatusCode::kUnavailable);
  EXPECT_NE(timed_out.message().find("timed out"), std::string::npos) << timed_out.message();

  Waker waker;
  std::thread canceller([&] { waker.wake(); });
  const Status cancelled = p.client.send_all(big, kNoDeadline, &waker);
  canceller.join();
  EXPECT_EQ(cancelled.code(), StatusCode::kCancelled);
}

TEST(NetListener, ReportsTheBoundPortAndRefusesBadHostsAndBusyPorts) {
  auto l = Listener::listen("127.0.0.1", 0);
  ASSERT_TRUE(l.is_ok());
  EXPECT_GT(l->port(), 0);
  auto busy = Listener::listen("127.0.0.1", l->port());
  ASSERT_FALSE(busy.is_ok());
  EXPECT_EQ(busy.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(busy.status().message().find("cannot listen on 127.0.0.1:"), std::string::npos);
  EXPECT_EQ(Listener::listen("localhost", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Listener::listen("127.0.0.1", 70000).status().code(), StatusCode::kInvalidArgument);
}

TEST(NetListener, AcceptTimesOutOrIsCancelled) {
  auto l = Listener::listen("127.0.0.1", 0);
  ASSERT_TRUE(l.is_ok());
  auto none = l->accept(/*deadline=*/0);
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("timed out"), std::string::npos);
  Waker waker;
  std::thread canceller([&] { waker.wake(); });
  auto cancelled = l->accept(kNoDeadline, &waker);
  canceller.join();
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
}

TEST(NetWaker, FdIsReadableWhileWokenAndResetClearsIt) {
  Waker waker;
  ASSERT_TRUE(waker.status().is_ok());
  EXPECT_FALSE(waker.woken());
  EXPECT_EQ(wait_for(waker.fd(), POLLIN, 0, nullptr), WaitResult::kTimedOut);
  waker.wake();
  waker.wake();
  EXPECT_TRUE(waker.woken());
  EXPECT_EQ(wait_for(waker.fd(), POLLIN, 0, nullptr), WaitResult::kReady);
  waker.reset();
  EXPECT_FALSE(waker.woken());
  EXPECT_EQ(wait_for(waker.fd(), POLLIN, 0, nullptr), WaitResult::kTimedOut);
}

TEST(NetWait, DeadlinesAreOnTheSteadyClock) {
  EXPECT_EQ(deadline_in_ms(-1), kNoDeadline);
  const std::int64_t before = steady_now_us();
  const DeadlineUs d = deadline_in_ms(250);
  EXPECT_GE(d, before + 250'000);
  EXPECT_LE(d, steady_now_us() + 250'000);
}

}  // namespace
}  // namespace uc::net
