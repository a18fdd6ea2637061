// The source runtime with a ManualClock: nothing here sleeps until a deadline; time
// moves when the test says so, and waits on real time only bound a failure.
#include "pipeline/source_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "pipeline/fake_emitter.h"

namespace uc::pipeline {
namespace {

using namespace std::chrono_literals;
using testing::FakeEmitter;

// A source whose body is a function of the test.
class FnSource final : public Source {
 public:
  explicit FnSource(std::function<void(SourceContext&)> body, std::string name = "s")
      : name_(std::move(name)), body_(std::move(body)) {}
  const std::string& name() const override { return name_; }
  void run(SourceContext& ctx) override {
    ++runs_;
    body_(ctx);
  }
  std::atomic<int> runs_{0};

 private:
  std::string name_;
  std::function<void(SourceContext&)> body_;
};

// Spins (with a real deadline) until pred() holds; for conditions set by another thread.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

SourceRuntimeOptions opts(int initial_ms = 100, int max_ms = 1000) {
  SourceRuntimeOptions o;
  o.endpoint = "test://peer";
  o.backoff_initial_ms = initial_ms;
  o.backoff_max_ms = max_ms;
  o.backoff_seed = 7;
  return o;
}

TEST(SourceLoop, StopWakesAWaitOnTheClockAtOnce) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::atomic<bool> returned{false};
  FnSource src([&](SourceContext& ctx) {
    EXPECT_FALSE(ctx.wait_for(std::chrono::hours(1)));
    returned = true;
  });
  SourceLoop loop(src, em, opts());
  ASSERT_TRUE(loop.start().is_ok());
  EXPECT_FALSE(loop.start().is_ok());  // already running
  loop.stop();
  EXPECT_TRUE(returned);
  EXPECT_FALSE(loop.running());
  ASSERT_FALSE(em.states().empty());
  EXPECT_EQ(em.states().back().first, ComponentState::kStopped);
}

// A wait "until woken" (deadline INT64_MAX) on the system clock ends with the stop (it once
// spun holding the lock and starved the stop: SystemClock.AWaitWithoutDeadline…).
TEST(SourceLoop, AWaitWithoutDeadlineOnTheSystemClockBlocksUntilStopped) {
  FakeEmitter em(SystemClock::instance());
  std::atomic<int> waits{0};
  std::atomic<bool> waiting{false};
  FnSource src([&](SourceContext& ctx) {
    waiting = true;
    while (ctx.wait_until(INT64_MAX)) ++waits;
  });
  SourceLoop loop(src, em, opts());
  ASSERT_TRUE(loop.start().is_ok());
  ASSERT_TRUE(eventually([&] { return waiting.load(); }));
  std::this_thread::sleep_for(20ms);  // lets a spinning wait show itself; not a synchronisation
  loop.stop();
  EXPECT_EQ(waits.load(), 0);
}

TEST(SourceLoop, AWaitEndsWhenTheInjectedClockReachesItsDeadline) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::atomic<int> ticks{0};
  const std::int64_t t0 = clock.steady_us();  // deadlines from here: no race with the body starting
  FnSource src([&](SourceContext& ctx) {
    for (std::int64_t next = t0 + 10'000'000; ctx.wait_until(next); next += 10'000'000) ++ticks;
  });
  SourceLoop loop(src, em, opts());
  ASSERT_TRUE(loop.start().is_ok());
  clock.advance_us(9'999'999);
  EXPECT_EQ(ticks.load(), 0);
  clock.advance_us(1);
  EXPECT_TRUE(eventually([&] { return ticks.load() == 1; }));
  clock.advance_us(10'000'000);
  EXPECT_TRUE(eventually([&] { return ticks.load() == 2; }));
  loop.stop();
  EXPECT_EQ(ticks.load(), 2);
}

TEST(SourceLoop, ReconnectAttemptsFollowTheBackoffOnTheInjectedClock) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::atomic<int> attempts{0};
  std::vector<std::int64_t> attempt_at;  // written by the body only, read after stop
  const std::int64_t t0 = clock.steady_us();
  FnSource src([&](SourceContext& ctx) {
    while (ctx.wait_to_connect()) {
      attempt_at.push_back(ctx.steady_us() - t0);
      ++attempts;
      ctx.connection_failed(Status(StatusCode::kUnavailable, "refused"));
    }
  });
  SourceLoop loop(src, em, opts(100, 400));
  ASSERT_TRUE(loop.start().is_ok());
  ASSERT_TRUE(eventually([&] { return attempts.load() == 1; }));
  // Delays: 100, 200, 400, 400 ms (±20 %). Step the clock 10 ms at a time.
  for (int i = 0; i < 200 && attempts.load() < 5; ++i) {
    const int before = attempts.load();
    clock.advance_us(10'000);
    // Let the body take a due attempt before time moves on.
    eventually([&] { return attempts.load() > before; }, 5ms);
  }
  // The fifth attempt's failure is reported after it is counted; a stop in between would
  // (rightly) not count it as the peer's failure.
  EXPECT_TRUE(eventually([&] { return em.errors_.load() >= 5; }));
  loop.stop();
  ASSERT_GE(attempt_at.size(), 5u);
  const double expected_ms[] = {100, 200, 400, 400};
  for (int i = 0; i < 4; ++i) {
    const double gap_ms = static_cast<double>(attempt_at[i + 1] - attempt_at[i]) / 1000.0;
    EXPECT_GE(gap_ms, expected_ms[i] * 0.8 - 10) << "retry " << i;
    EXPECT_LE(gap_ms, expected_ms[i] * 1.2 + 40) << "retry " << i;  // + a few steps if the body was slow
  }
  EXPECT_EQ(em.reconnections_.load(), 0);  // never connected: attempts, not reconnections
  EXPECT_GE(em.errors_.load(), 5);
  // State reported once, not once per attempt.
  int connecting = 0;
  for (const auto& [s, d] : em.states()) connecting += s == ComponentState::kConnecting ? 1 : 0;
  EXPECT_EQ(connecting, 1);
}

TEST(SourceLoop, AReconnectionIsCountedAndTheBackoffStartsAgainAfterAConnection) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::atomic<int> step{0};
  FnSource src([&](SourceContext& ctx) {
    while (ctx.wait_to_connect()) {
      const int n = ++step;
      if (n == 2) {
        ctx.connected();
        EXPECT_EQ(ctx.failures(), 0);
      }
      ctx.connection_failed(Status(StatusCode::kUnavailable, "lost " + std::to_string(n)));
      if (n == 2) {
        EXPECT_EQ(ctx.failures(), 1);
      }
    }
  });
  SourceLoop loop(src, em, opts(100, 1000));
  ASSERT_TRUE(loop.start().is_ok());
  for (int i = 0; i < 300 && step.load() < 4; ++i) {
    const int before = step.load();
    clock.advance_us(10'000);
    eventually([&] { return step.load() > before; }, 5ms);
  }
  loop.stop();
  EXPECT_GE(step.load(), 4);
  EXPECT_EQ(em.reconnections_.load(), step.load() - 2);  // attempts 3, 4, … follow a connection
  const auto states = em.states();
  bool saw_connected = false;
  for (const auto& [s, d] : states) saw_connected = saw_connected || s == ComponentState::kConnected;
  EXPECT_TRUE(saw_connected);
}

// Issue 20: a broker that accepts every connection and then drops it (it redelivers a
// message the source fails on) was retried at backoff_initial_ms for ever, because each
// CONNACK reset the back-off. With kOnData only data (or a connection that lasted) does.
TEST(SourceLoop, WithResetOnDataTheBackoffGrowsUntilDataFlowsOrAConnectionLasts) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::atomic<int> step{0};
  std::vector<int> failures_after;  // ctx.failures() after each cycle; the body's only
  FnSource src([&](SourceContext& ctx) {
    while (ctx.wait_to_connect()) {
      const int n = ++step;
      ctx.connected(SourceContext::BackoffReset::kOnData);
      if (n == 4) ctx.data_flowed();
      if (n == 6 && !ctx.wait_for(1000ms)) return;  // up for backoff_max_ms without data
      ctx.connection_failed(Status(StatusCode::kUnavailable, "dropped after CONNACK"));
      failures_after.push_back(ctx.failures());
    }
  });
  SourceLoop loop(src, em, opts(100, 1000));
  ASSERT_TRUE(loop.start().is_ok());
  for (int i = 0; i < 2000 && step.load() < 7; ++i) {
    const int before = step.load();
    clock.advance_us(10'000);
    eventually([&] { return step.load() > before; }, 5ms);
  }
  loop.stop();
  ASSERT_GE(failures_after.size(), 6u);
  EXPECT_EQ(failures_after[0], 1);
  EXPECT_EQ(failures_after[1], 2);  // the CONNACK alone did not reset it
  EXPECT_EQ(failures_after[2], 3);
  EXPECT_EQ(failures_after[3], 1);  // data flowed on that connection
  EXPECT_EQ(failures_after[4], 2);
  EXPECT_EQ(failures_after[5], 1);  // it lasted backoff_max_ms: not flapping
}

TEST(SourceLoop, StopCallsTheInterruptHookOfABlockedBody) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  std::atomic<bool> blocked{false};
  FnSource src([&](SourceContext& ctx) {
    auto scope = ctx.on_interrupt([&] {
      std::lock_guard lock(mu);
      released = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    blocked = true;
    cv.wait(lock, [&] { return released; });  // stands for a blocking socket call
  });
  SourceLoop loop(src, em, opts());
  ASSERT_TRUE(loop.start().is_ok());
  ASSERT_TRUE(eventually([&] { return blocked.load(); }));
  loop.stop();
  EXPECT_TRUE(released);
}

TEST(SourceLoop, AHookSetAfterStopWasRequestedRunsAtOnce) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::atomic<bool> hook_ran{false};
  std::atomic<bool> go{false};
  FnSource src([&](SourceContext& ctx) {
    while (!go) std::this_thread::yield();
    auto scope = ctx.on_interrupt([&] { hook_ran = true; });
  });
  SourceLoop loop(src, em, opts());
  ASSERT_TRUE(loop.start().is_ok());
  loop.request_stop();
  go = true;
  loop.stop();
  EXPECT_TRUE(hook_ran);
}

TEST(SourceLoop, RestartRunsTheBodyAgainFromAFreshStateAndSetSourceReplacesIt) {
  ManualClock clock;
  FakeEmitter em(clock);
  FnSource first([&](SourceContext& ctx) {
    EXPECT_EQ(ctx.failures(), 0);
    ctx.connection_failed(Status(StatusCode::kUnavailable, "x"));
    ctx.wait_for(std::chrono::hours(1));
  });
  SourceLoop loop(first, em, opts());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(loop.start().is_ok());
    ASSERT_TRUE(eventually([&] { return first.runs_.load() == i + 1; }));
    loop.stop();
  }
  std::atomic<bool> second_ran{false};
  FnSource second([&](SourceContext&) { second_ran = true; });
  ASSERT_TRUE(loop.start().is_ok());
  EXPECT_FALSE(loop.set_source(second, opts()).is_ok());  // not while running
  loop.stop();
  ASSERT_TRUE(loop.set_source(second, opts()).is_ok());
  ASSERT_TRUE(loop.start().is_ok());
  ASSERT_TRUE(eventually([&] { return second_ran.load(); }));
  loop.stop();
  EXPECT_EQ(first.runs_.load(), 4);
}

TEST(SourceLoop, PublishReportsARefusalAndBadSamplesCarryTheStatusAndTime) {
  ManualClock clock;
  FakeEmitter em(clock);
  std::atomic<int> results{-1};
  FnSource src([&](SourceContext& ctx) {
    auto meta = std::make_shared<TagMeta>();
    SampleBatch b{ctx.bad_sample("a", meta, {ProtocolStatus::Kind::kCommError, 0, "down"})};
    const bool first = ctx.publish(std::move(b));
    em.refuse(true);
    const bool second = ctx.publish(SampleBatch{ctx.bad_sample("b", nullptr, {})});
    const bool empty = ctx.publish({});
    results = (first ? 1 : 0) + (second ? 2 : 0) + (empty ? 4 : 0);
  });
  SourceLoop loop(src, em, opts());
  ASSERT_TRUE(loop.start().is_ok());
  const SampleBatch b = em.next();
  loop.stop();
  EXPECT_EQ(results.load(), 1 + 4);  // refused → false; an empty batch is never refused
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].address, "a");
  EXPECT_EQ(b[0].status.kind, ProtocolStatus::Kind::kCommError);
  EXPECT_EQ(b[0].status.text, "down");
  EXPECT_EQ(b[0].receive_time, clock.now_us());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(b[0].value));
}

}  // namespace
}  // namespace uc::pipeline
