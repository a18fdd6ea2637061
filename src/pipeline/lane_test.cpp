#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "pipeline/lane.h"

namespace uc::pipeline {
namespace {

// A sink scripted by the test: fails the first `fail_times` writes with `fail_status`,
// rejects records whose status_code is negative, and remembers what it delivered.
class ScriptedSink final : public Sink {
 public:
  const std::string& name() const override { return name_; }
  Status start() override { return start_status; }
  WriteResult write(const std::vector<Record>& batch) override {
    std::lock_guard lock(mu);
    writes++;
    if (fail_times > 0) {
      --fail_times;
      return WriteResult::retry(fail_status);
    }
    std::vector<Rejection> rej;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].status_code < 0) {
        rej.push_back({i, "negative"});
      } else {
        delivered.push_back(batch[i].status_code);
      }
    }
    return rej.empty() ? WriteResult::delivered() : WriteResult::partial(std::move(rej));
  }
  void stop() override { stopped = true; }

  std::string name_ = "scripted";
  Status start_status;
  std::mutex mu;
  int writes = 0;
  int fail_times = 0;
  Status fail_status{StatusCode::kUnavailable, "down"};
  std::vector<std::int64_t> delivered;
  bool stopped = false;
};

// A shutdown deadline `d` from now on the system clock (the lanes' default).
std::int64_t in(std::chrono::microseconds d) { return SystemClock::instance().steady_us() + d.count(); }

LaneOptions fast_options() {
  LaneOptions o;
  o.target = "t";
  o.capacity = 100;
  o.batch.max_records = 10;
  o.batch.linger = std::chrono::milliseconds(1);
  o.retry_initial = std::chrono::milliseconds(1);
  o.retry_max = std::chrono::milliseconds(4);
  return o;
}

std::vector<Record> numbered(std::int64_t from, std::int64_t to) {
  std::vector<Record> v;
  for (std::int64_t i = from; i < to; ++i) {
    Record r;
    r.status_code = i;
    v.push_back(std::move(r));
  }
  return v;
}

struct Outcome {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<BatchOutcome> got;
  AckRef make(std::size_t n) {
    return std::make_shared<AckState>(n, [this](const BatchOutcome& o) {
      std::lock_guard lock(mu);
      got = o;
      cv.notify_all();
    });
  }
  BatchOutcome wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return got.has_value(); });
    return *got;
  }
};

TEST(Lane, DeliversInOrderAndAcks) {
  auto sink = std::make_unique<ScriptedSink>();
  auto* s = sink.get();
  Lane lane(fast_options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 25), out.make(25));
  auto o = out.wait();
  EXPECT_EQ(o.delivered, 25u);
  lane.stop(in(std::chrono::seconds(5)));
  ASSERT_EQ(s->delivered.size(), 25u);
  for (std::int64_t i = 0; i < 25; ++i) EXPECT_EQ(s->delivered[static_cast<std::size_t>(i)], i);
  EXPECT_TRUE(s->stopped);
  EXPECT_EQ(lane.counters().delivered, 25u);
}

TEST(Lane, RetriesRetryableFailuresThenDelivers) {
  auto sink = std::make_unique<ScriptedSink>();
  sink->fail_times = 3;
  auto* s = sink.get();
  Lane lane(fast_options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 5), out.make(5));
  EXPECT_EQ(out.wait().delivered, 5u);
  lane.stop(in(std::chrono::seconds(5)));
  EXPECT_EQ(lane.counters().batches_failed, 3u);
  EXPECT_EQ(s->delivered.size(), 5u);
  EXPECT_EQ(lane.last_error(), "UNAVAILABLE: down");
}

// A sink that is down until the lane's clock reaches `up_at_us`, and notes the clock's
// time of every write.
class ClockedSink final : public Sink {
 public:
  explicit ClockedSink(const Clock& clock) : clock_(clock) {}
  const std::string& name() const override { return name_; }
  Status start() override { return Status::ok(); }
  WriteResult write(const std::vector<Record>&) override {
    std::lock_guard lock(mu);
    times.push_back(clock_.steady_us());
    return clock_.steady_us() >= up_at_us ? WriteResult::delivered() : WriteResult::retry(unavailable("down"));
  }
  void stop() override {}
  std::vector<std::int64_t> write_times() {
    std::lock_guard lock(mu);
    return times;
  }
  std::mutex mu;
  std::int64_t up_at_us = INT64_MAX;
  std::vector<std::int64_t> times;

 private:
  const Clock& clock_;
  std::string name_ = "clocked";
};

// Moves `clock` in `step_us` steps (the lane waits on it, polling every ManualClock::kPollMs
// of real time) until `done()`, at most `max_steps` steps; false when it never happened.
// The lane may see the clock late, never early: tests check lower bounds of waits.
template <typename Done>
bool advance_until(ManualClock& clock, std::int64_t step_us, Done done, int max_steps = 2000) {
  for (int i = 0; i < max_steps; ++i) {
    if (done()) return true;
    clock.advance_us(step_us);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return done();
}

// The retry back-off runs on the lane's clock: each retry waits at least half of the
// current back-off (jitter), which doubles up to retry_max; the seconds pass on the fake
// clock only.
TEST(Lane, RetryBackOffDoublesOnTheInjectedClock) {
  ManualClock clock;
  auto sink = std::make_unique<ClockedSink>(clock);
  auto* s = sink.get();
  LaneOptions o = fast_options();
  o.retry_initial = std::chrono::seconds(1);
  o.retry_max = std::chrono::seconds(4);
  o.breaker.failure_threshold = 100;
  s->up_at_us = clock.steady_us() + 10'000'000;
  Lane lane(o, std::move(sink), clock);
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 5), out.make(5));
  ASSERT_TRUE(advance_until(clock, 50'000, [&] { return lane.counters().delivered.load() == 5; }));
  const auto t = s->write_times();
  ASSERT_GE(t.size(), 3u);
  for (std::size_t i = 1; i < t.size(); ++i) {
    const std::int64_t backoff_ms = std::min<std::int64_t>(1000LL << std::min<std::size_t>(i - 1, 4), 4000);
    EXPECT_GE(t[i] - t[i - 1], backoff_ms * 1000 / 2) << "retry " << i;
  }
  EXPECT_GE(t.back(), s->up_at_us);
  lane.stop(clock.steady_us());
}

// The breaker opens after failure_threshold failures and lets one trial through only
// when open_duration has passed on the lane's clock.
TEST(Lane, OpenBreakerWaitsItsDurationOnTheInjectedClock) {
  ManualClock clock;
  auto sink = std::make_unique<ClockedSink>(clock);
  auto* s = sink.get();
  LaneOptions o = fast_options();
  o.retry_initial = std::chrono::milliseconds(100);
  o.retry_max = std::chrono::milliseconds(100);
  o.breaker.failure_threshold = 3;
  o.breaker.open_duration = std::chrono::seconds(60);
  s->up_at_us = clock.steady_us() + 30'000'000;  // up long before the breaker lets a trial through
  Lane lane(o, std::move(sink), clock);
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 5), out.make(5));
  ASSERT_TRUE(advance_until(clock, 500'000, [&] { return lane.counters().delivered.load() == 5; }));
  const auto t = s->write_times();
  ASSERT_EQ(t.size(), 4u) << "three failures open the breaker; the fourth write is the trial";
  EXPECT_GE(t[3] - t[2], 60'000'000);
  EXPECT_EQ(lane.circuit_state(), CircuitBreaker::State::kClosed);
  lane.stop(clock.steady_us());
}

TEST(Lane, NonRetryableFailureRejectsTheBatch) {
  auto sink = std::make_unique<ScriptedSink>();
  sink->fail_times = 1;
  sink->fail_status = Status(StatusCode::kInvalidArgument, "schema mismatch");
  Lane lane(fast_options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 5), out.make(5));
  auto o = out.wait();
  EXPECT_EQ(o.rejected, 5u);
  lane.stop(in(std::chrono::seconds(0)));
  EXPECT_EQ(lane.counters().rejected, 5u);
}

TEST(Lane, OneRejectedRecordDoesNotBlockItsBatchMates) {
  auto sink = std::make_unique<ScriptedSink>();
  auto* s = sink.get();
  Lane lane(fast_options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  auto records = numbered(0, 6);
  records[2].status_code = -7;
  Outcome out;
  lane.push(std::move(records), out.make(6));
  auto o = out.wait();
  EXPECT_EQ(o.delivered, 5u);
  EXPECT_EQ(o.rejected, 1u);
  lane.stop(in(std::chrono::seconds(0)));
  EXPECT_EQ(s->delivered, (std::vector<std::int64_t>{0, 1, 3, 4, 5}));
}

TEST(Lane, DeadSinkAtShutdownDropsAndCountsEverything) {
  auto sink = std::make_unique<ScriptedSink>();
  sink->fail_times = 1'000'000;
  Lane lane(fast_options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 30), out.make(30));
  lane.stop(in(std::chrono::milliseconds(20)));
  auto o = out.wait();
  EXPECT_EQ(o.dropped, 30u);
  EXPECT_EQ(lane.counters().dropped_shutdown, 30u);
  EXPECT_EQ(lane.counters().delivered, 0u);
}

TEST(Lane, SinkStartFailureIsReported) {
  auto sink = std::make_unique<ScriptedSink>();
  sink->start_status = Status(StatusCode::kPermissionDenied, "cannot open");
  Lane lane(fast_options(), std::move(sink));
  EXPECT_EQ(lane.start().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(lane.state(), ComponentState::kFailed);
}

}  // namespace
}  // namespace uc::pipeline

// --- with the disk spool and the DLQ ----------------------------------------------------

namespace uc::pipeline {
namespace {

class SwitchableSink final : public Sink {
 public:
  const std::string& name() const override { return name_; }
  Status start() override { return Status::ok(); }
  WriteResult write(const std::vector<Record>& batch) override {
    std::lock_guard lock(mu);
    ++writes;
    if (!up) return WriteResult::retry(failure);
    std::vector<Rejection> rej;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].status_code < 0) {
        rej.push_back({i, "negative status"});
      } else {
        delivered.push_back(batch[i].status_code);
      }
    }
    return WriteResult::partial(std::move(rej));
  }
  void stop() override {}
  std::string storage_path() const override { return storage; }
  std::size_t delivered_count() {
    std::lock_guard lock(mu);
    return delivered.size();
  }
  mutable std::mutex mu;
  bool up = true;
  Status failure = unavailable("down");
  std::string storage;  // storage_path()
  int writes = 0;
  std::vector<std::int64_t> delivered;

 private:
  std::string name_ = "switchable";
};

class SpoolLaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("uc_lane_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  LaneOptions options() {
    LaneOptions o = fast_options();
    buffer::SpoolOptions so;
    so.directory = (dir_ / "spool").string();
    so.fsync = buffer::FsyncPolicy::kBatch;
    o.spool = so;
    o.dlq_directory = (dir_ / "dlq").string();
    o.breaker.open_duration = std::chrono::milliseconds(5);
    return o;
  }

  template <typename Pred>
  static void wait_for(Pred pred) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << "condition not reached";
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::filesystem::path dir_;
};

TEST_F(SpoolLaneTest, AcksWhenSpooledAndDeliversAfterTheSinkComesBack) {
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  s->up = false;
  Lane lane(options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 25), out.make(25));
  auto o = out.wait();  // durable in the spool although the sink is down
  EXPECT_EQ(o.delivered, 25u);
  EXPECT_EQ(lane.counters().spooled, 25u);
  {
    std::lock_guard lock(s->mu);
    s->up = true;
  }
  wait_for([&] { return s->delivered_count() == 25; });
  lane.stop(in(std::chrono::seconds(5)));
  for (std::int64_t i = 0; i < 25; ++i) EXPECT_EQ(s->delivered[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(lane.spool_unacked(), 0u);
}

// POST /api/zerobus/stop: a paused lane keeps spooling (the source is acknowledged) but
// never calls the sink; a stop while paused leaves the records in the spool; resumed
// (after a restart here) every record is delivered once, in order.
TEST_F(SpoolLaneTest, PausedDeliveryKeepsRecordsInTheSpoolUntilResumed) {
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  {
    Lane lane(options(), std::move(sink));
    lane.set_delivery_paused(true);
    ASSERT_TRUE(lane.start().is_ok());
    Outcome out;
    lane.push(numbered(0, 25), out.make(25));
    EXPECT_EQ(out.wait().delivered, 25u);  // durable in the spool
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    {
      std::lock_guard lock(s->mu);
      EXPECT_EQ(s->writes, 0);
    }
    EXPECT_TRUE(lane.delivery_paused());
    lane.stop(in(std::chrono::seconds(5)));
    EXPECT_EQ(lane.spool_unacked(), 25u);
    EXPECT_EQ(lane.counters().dropped_shutdown, 0u);
  }
  auto sink2 = std::make_unique<SwitchableSink>();
  auto* s2 = sink2.get();
  Lane lane(options(), std::move(sink2));
  lane.set_delivery_paused(true);
  ASSERT_TRUE(lane.start().is_ok());
  lane.set_delivery_paused(false);
  wait_for([&] { return s2->delivered_count() == 25; });
  lane.stop(in(std::chrono::seconds(5)));
  for (std::int64_t i = 0; i < 25; ++i) EXPECT_EQ(s2->delivered[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(lane.spool_unacked(), 0u);
}

// Issue 20, defect 3: spool and a local sink on one full disk. While the sink fails for lack
// of space, the spool writer takes no more records (they wait in the memory queue), so space
// that is freed goes to the sink; the first delivered batch lifts the pause.
TEST_F(SpoolLaneTest, ASinkOutOfSpaceOnTheSpoolDiskPausesTheSpoolWriter) {
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  s->up = false;
  s->failure = Status(StatusCode::kResourceExhausted, "write records: No space left on device");
  s->storage = (dir_ / "records").string();  // beside the spool: the same filesystem
  Lane lane(options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome first;
  lane.push(numbered(0, 10), first.make(10));
  wait_for([&] {
    std::lock_guard lock(s->mu);
    return s->writes >= 2;
  });
  Outcome second;
  lane.push(numbered(10, 20), second.make(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(lane.counters().spooled, 10u) << "the spool took space the sink needs";
  EXPECT_FALSE(second.got.has_value()) << "not durable yet: held in memory";
  {
    std::lock_guard lock(s->mu);
    s->up = true;
  }
  wait_for([&] { return s->delivered_count() == 20; });
  EXPECT_EQ(lane.counters().spooled, 20u);
  lane.stop(in(std::chrono::seconds(5)));
  for (std::int64_t i = 0; i < 20; ++i) EXPECT_EQ(s->delivered[static_cast<std::size_t>(i)], i);
}

// A sink that is not on the spool's disk (here: no local storage at all) failing the same
// way leaves the spool buffering as usual.
TEST_F(SpoolLaneTest, ARemoteSinkOutOfResourcesStillSpools) {
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  s->up = false;
  s->failure = Status(StatusCode::kResourceExhausted, "quota exceeded");
  Lane lane(options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome first;
  lane.push(numbered(0, 10), first.make(10));
  wait_for([&] {
    std::lock_guard lock(s->mu);
    return s->writes >= 2;
  });
  Outcome second;
  lane.push(numbered(10, 20), second.make(10));
  wait_for([&] { return lane.counters().spooled.load() == 20; });
  lane.stop(in(std::chrono::seconds(5)));
}

TEST_F(SpoolLaneTest, UndeliveredRecordsSurviveStopAndAreDeliveredAfterRestart) {
  {
    auto sink = std::make_unique<SwitchableSink>();
    sink->up = false;
    Lane lane(options(), std::move(sink));
    ASSERT_TRUE(lane.start().is_ok());
    Outcome out;
    lane.push(numbered(0, 40), out.make(40));
    out.wait();
    lane.stop(in(std::chrono::milliseconds(20)));
    EXPECT_EQ(lane.counters().dropped_shutdown, 0u);  // nothing dropped: it stays in the spool
  }
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  Lane lane(options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  wait_for([&] { return s->delivered_count() == 40; });
  lane.stop(in(std::chrono::seconds(5)));
  for (std::int64_t i = 0; i < 40; ++i) EXPECT_EQ(s->delivered[static_cast<std::size_t>(i)], i);
}

TEST_F(SpoolLaneTest, RejectedRecordsGoToTheDlqAndReplayDeliversThem) {
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  Lane lane(options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  auto records = numbered(0, 10);
  records[3].status_code = -3;
  records[7].status_code = -7;
  Outcome out;
  lane.push(std::move(records), out.make(10));
  out.wait();
  wait_for([&] { return s->delivered_count() == 8; });
  wait_for([&] { return lane.counters().dead_lettered.load() == 2; });
  ASSERT_NE(lane.dlq(), nullptr);
  EXPECT_EQ(lane.dlq()->count(), 2u);
  auto entries = lane.dlq()->list(0, 10);
  ASSERT_TRUE(entries.is_ok());
  EXPECT_EQ((*entries)[0].reason, "negative status");
  // "Fix" the data: the sink now takes everything... by flipping the sign check off is not
  // possible, so replay proves only that the records come back through the lane.
  auto n = lane.replay_dlq();
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 2u);
  wait_for([&] { return lane.counters().dead_lettered.load() == 4; });  // rejected again, back in the DLQ
  EXPECT_EQ(lane.dlq()->count(), 2u);
  lane.stop(in(std::chrono::seconds(5)));
  EXPECT_EQ(lane.counters().rejected, 0u);
}

TEST_F(SpoolLaneTest, FullSpoolWithDropNewestCountsTheDrops) {
  auto sink = std::make_unique<SwitchableSink>();
  sink->up = false;
  LaneOptions o = options();
  o.policy = DropPolicy::kDropNewest;
  o.spool->max_bytes = 64 * 1024;
  o.spool->segment_bytes = 16 * 1024;
  Lane lane(o, std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  std::uint64_t dropped_seen = 0;
  for (int i = 0; i < 100; ++i) {
    Outcome out;
    auto batch = numbered(i * 100, i * 100 + 100);
    for (auto& r : batch) r.value_str.assign(100, 'x');
    lane.push(std::move(batch), out.make(100));
    dropped_seen += out.wait().dropped;
  }
  lane.stop(in(std::chrono::seconds(0)));
  EXPECT_GT(dropped_seen, 0u);
  EXPECT_EQ(lane.counters().dropped_newest + lane.counters().dropped_oldest, dropped_seen);
  EXPECT_EQ(lane.counters().spooled + dropped_seen, 10'000u);
  EXPECT_LE(lane.spool_bytes(), 64u * 1024);
}

}  // namespace
}  // namespace uc::pipeline

namespace uc::pipeline {
namespace {

TEST_F(SpoolLaneTest, FullSpoolWithDropOldestKeepsTheNewestAndCountsTheDrops) {
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  s->up = false;
  LaneOptions o = options();
  o.policy = DropPolicy::kDropOldest;
  o.spool->max_bytes = 64 * 1024;
  o.spool->segment_bytes = 16 * 1024;
  Lane lane(o, std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  for (int i = 0; i < 50; ++i) {
    Outcome out;
    auto batch = numbered(i * 100, i * 100 + 100);
    for (auto& r : batch) r.value_str.assign(100, 'x');
    lane.push(std::move(batch), out.make(100));
    out.wait();
  }
  EXPECT_GT(lane.counters().dropped_oldest.load(), 0u);
  EXPECT_LE(lane.spool_bytes(), 64u * 1024);
  {
    std::lock_guard lock(s->mu);
    s->up = true;
  }
  // A batch the delivery worker already held when its segment was dropped is still
  // delivered, so wait for the spool to empty rather than for an exact count.
  wait_for([&] { return lane.spool_unacked() == 0 && s->delivered_count() > 0; });
  lane.stop(in(std::chrono::seconds(5)));
  // What survived is the newest, in order, ending with the last record pushed.
  ASSERT_FALSE(s->delivered.empty());
  EXPECT_EQ(s->delivered.back(), 4999);
  EXPECT_TRUE(std::is_sorted(s->delivered.begin(), s->delivered.end()));
}

TEST_F(SpoolLaneTest, FullSpoolWithBlockHoldsRecordsUntilThereIsRoom) {
  auto sink = std::make_unique<SwitchableSink>();
  auto* s = sink.get();
  s->up = false;
  LaneOptions o = options();
  o.policy = DropPolicy::kBlock;
  o.capacity = 200;
  o.spool->max_bytes = 32 * 1024;
  o.spool->segment_bytes = 8 * 1024;
  Lane lane(o, std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < 40; ++i) {
      auto batch = numbered(i * 50, i * 50 + 50);
      for (auto& r : batch) r.value_str.assign(100, 'x');
      lane.push(std::move(batch), std::make_shared<AckState>(50, nullptr));
      pushed++;
    }
  });
  // The spool fills, then the memory queue: the producer is held back (backpressure).
  wait_for([&] { return lane.queue_size() >= 150; });
  EXPECT_LT(pushed.load(), 40);
  {
    std::lock_guard lock(s->mu);
    s->up = true;
  }
  producer.join();
  wait_for([&] { return s->delivered_count() == 2000; });
  lane.stop(in(std::chrono::seconds(5)));
  EXPECT_EQ(lane.counters().dropped_oldest + lane.counters().dropped_newest + lane.counters().dropped_shutdown, 0u);
  for (std::size_t i = 0; i < 2000; ++i) ASSERT_EQ(s->delivered[i], static_cast<std::int64_t>(i));
}

}  // namespace
}  // namespace uc::pipeline
