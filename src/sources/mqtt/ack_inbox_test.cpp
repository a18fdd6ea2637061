#include "sources/mqtt/ack_inbox.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace uc::sources::mqtt {
namespace {

using namespace std::chrono_literals;

// Both ends of a local stream: `near` is the connection under test.
struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    near = net::Connection::adopt(fds[0]);
    far = fds[1];
  }
  ~Pair() { ::close(far); }
  net::Connection near;
  int far = -1;
};

AckInbox::AckToken token(std::uint64_t serial) { return {1, serial, static_cast<std::uint16_t>(serial), 1}; }

TEST(AckInbox, ATokenPushedDuringTheWaitEndsItAndLeavesTheWakerQuiet) {
  Pair p;
  AckInbox inbox;
  std::thread pusher([&] {
    std::this_thread::sleep_for(50ms);
    inbox.push(token(7));
  });
  EXPECT_EQ(inbox.wait_readable(p.near, net::deadline_in_ms(10000)), net::WaitResult::kWoken);
  pusher.join();
  const auto tokens = inbox.take();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].serial, 7u);
  // Sends given the waker after the wait are not cancelled by that ack.
  EXPECT_FALSE(inbox.waker()->woken());
  EXPECT_TRUE(p.near.send_all(std::string_view("x"), net::deadline_in_ms(1000), inbox.waker()).is_ok());
}

TEST(AckInbox, ATokenPushedOutsideAWaitDoesNotRingButTheNextWaitReturnsAtOnce) {
  Pair p;
  AckInbox inbox;
  inbox.push(token(1));
  inbox.push(token(2));
  EXPECT_FALSE(inbox.waker()->woken());  // a send or connect in progress would go on
  EXPECT_EQ(inbox.wait_readable(p.near, net::kNoDeadline), net::WaitResult::kWoken);
  EXPECT_EQ(inbox.take().size(), 2u);
  EXPECT_TRUE(inbox.take().empty());
}

TEST(AckInbox, WaitsForTheConnectionAndTheDeadline) {
  Pair p;
  AckInbox inbox;
  EXPECT_EQ(inbox.wait_readable(p.near, net::deadline_in_ms(20)), net::WaitResult::kTimedOut);
  ASSERT_EQ(::write(p.far, "a", 1), 1);
  EXPECT_EQ(inbox.wait_readable(p.near, net::deadline_in_ms(10000)), net::WaitResult::kReady);
}

TEST(AckInbox, AnInterruptEndsTheWaitStaysAndDropsLaterTokens) {
  Pair p;
  AckInbox inbox;
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    inbox.interrupt();
  });
  EXPECT_EQ(inbox.wait_readable(p.near, net::kNoDeadline), net::WaitResult::kWoken);
  stopper.join();
  EXPECT_TRUE(inbox.waker()->woken());
  EXPECT_EQ(inbox.wait_readable(p.near, net::kNoDeadline), net::WaitResult::kWoken);
  EXPECT_EQ(p.near.send_all(std::string_view("x"), net::kNoDeadline, inbox.waker()).code(), StatusCode::kCancelled);
  inbox.push(token(3));
  EXPECT_TRUE(inbox.take().empty());
}

TEST(AckInbox, AfterCloseTokensAreDropped) {
  AckInbox inbox;
  inbox.push(token(1));
  inbox.close();
  inbox.push(token(2));
  EXPECT_TRUE(inbox.take().empty());
  EXPECT_TRUE(inbox.status().is_ok());
}

}  // namespace
}  // namespace uc::sources::mqtt
