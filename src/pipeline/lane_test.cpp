#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

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
  lane.stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
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
  lane.stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(lane.counters().batches_failed, 3u);
  EXPECT_EQ(s->delivered.size(), 5u);
  EXPECT_EQ(lane.last_error(), "UNAVAILABLE: down");
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
  lane.stop(std::chrono::steady_clock::now());
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
  lane.stop(std::chrono::steady_clock::now());
  EXPECT_EQ(s->delivered, (std::vector<std::int64_t>{0, 1, 3, 4, 5}));
}

TEST(Lane, DeadSinkAtShutdownDropsAndCountsEverything) {
  auto sink = std::make_unique<ScriptedSink>();
  sink->fail_times = 1'000'000;
  Lane lane(fast_options(), std::move(sink));
  ASSERT_TRUE(lane.start().is_ok());
  Outcome out;
  lane.push(numbered(0, 30), out.make(30));
  lane.stop(std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
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
