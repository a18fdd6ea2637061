#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace uc::pipeline {
namespace {

// A source driven by the test: publish() is called from the test's own thread once
// the body has handed out its context.
class ManualSource final : public Source {
 public:
  explicit ManualSource(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  void run(SourceContext& ctx) override {
    ctx.set_state(ComponentState::kConnected);
    ctx_ = &ctx;
    while (ctx.wait_for(std::chrono::hours(1))) {
    }
    stopped = true;
  }
  SourceContext* context() {
    while (ctx_ == nullptr) std::this_thread::yield();
    return ctx_;
  }
  std::atomic<SourceContext*> ctx_{nullptr};
  std::atomic<bool> stopped{false};

 private:
  std::string name_;
};

class CollectingSink final : public Sink {
 public:
  explicit CollectingSink(bool down = false) : down_(down) {}
  const std::string& name() const override { return name_; }
  Status start() override { return Status::ok(); }
  WriteResult write(const std::vector<Record>& batch) override {
    if (down_) return WriteResult::retry(unavailable("down"));
    std::lock_guard lock(mu);
    for (const auto& r : batch) paths.push_back(r.tag->tag_path + "=" + r.value_str);
    return WriteResult::delivered();
  }
  void stop() override {}
  std::mutex mu;
  std::vector<std::string> paths;

 private:
  bool down_;
  std::string name_ = "collect";
};

std::unique_ptr<normalize::Normalizer> normalizer(const std::string& source) {
  normalize::Options o;
  o.defaults = {"s", "a", "l", "e"};
  normalize::SourceInfo info{source, "synthetic", "", {}, ""};
  return std::move(normalize::Normalizer::create(o, info, std::make_shared<normalize::PathRegistry>())).value();
}

SampleBatch samples(int n) {
  SampleBatch b;
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.address = "tag" + std::to_string(i);
    s.value = std::int64_t{i};
    s.receive_time = 1;
    b.push_back(std::move(s));
  }
  return b;
}

LaneOptions opts(const std::string& target, std::size_t capacity = 100) {
  LaneOptions o;
  o.target = target;
  o.capacity = capacity;
  o.batch.max_records = 10;
  o.batch.linger = std::chrono::milliseconds(1);
  o.retry_initial = std::chrono::milliseconds(1);
  o.retry_max = std::chrono::milliseconds(5);
  return o;
}

TEST(Pipeline, FansOutToEveryLaneAndAcksOnceAllDelivered) {
  SystemClock clock;
  Pipeline p(clock);
  auto a = std::make_unique<CollectingSink>();
  auto b = std::make_unique<CollectingSink>();
  auto* pa = a.get();
  auto* pb = b.get();
  ASSERT_TRUE(p.add_lane(opts("t1"), std::move(a)).is_ok());
  auto b_opts = opts("t1");
  ASSERT_FALSE(p.add_lane(b_opts, std::make_unique<CollectingSink>()).is_ok());  // same target+sink name
  ASSERT_TRUE(p.add_lane(opts("t2"), std::move(b)).is_ok());
  auto src = std::make_unique<ManualSource>("m");
  auto* ps = src.get();
  ASSERT_TRUE(p.add_source(std::move(src), normalizer("m"), {"t1", "t2"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());

  std::mutex mu;
  std::condition_variable cv;
  std::optional<BatchOutcome> outcome;
  ASSERT_TRUE(ps->context()->publish(samples(25), [&](const BatchOutcome& o) {
    std::lock_guard lock(mu);
    outcome = o;
    cv.notify_all();
  }));
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return outcome.has_value(); });
  }
  EXPECT_EQ(outcome->delivered, 50u);  // 25 records × 2 targets
  p.stop(std::chrono::seconds(5));
  EXPECT_TRUE(ps->stopped);
  EXPECT_EQ(pa->paths.size(), 25u);
  EXPECT_EQ(pb->paths.size(), 25u);
  EXPECT_EQ(pa->paths[3], "s/a/l/e/value/tag3=3");
  auto st = p.status();
  EXPECT_EQ(st["sources"][0]["records_received"], 25);
  EXPECT_EQ(st["sources"][0]["state"], "stopped");
  EXPECT_EQ(st["targets"][0]["records_delivered"], 25);
}

TEST(Pipeline, UnknownTargetIsAnError) {
  SystemClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t1"), std::make_unique<CollectingSink>()).is_ok());
  Status s = p.add_source(std::make_unique<ManualSource>("m"), normalizer("m"), {"nope"}, "synthetic");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

// A source blocked on a full queue in front of a dead sink must not hang shutdown:
// at the drain deadline it is released, and every record is accounted as dropped.
class BlockingSource final : public Source {
 public:
  const std::string& name() const override { return name_; }
  void run(SourceContext& ctx) override {
    while (!ctx.stopping()) {
      handed += 10;
      if (!ctx.publish(samples(10), [this](const BatchOutcome& o) { dropped += o.dropped; })) break;
    }
  }
  std::atomic<std::size_t> handed{0};
  std::atomic<std::size_t> dropped{0};

 private:
  std::string name_ = "blocker";
};

TEST(Pipeline, ShutdownWithDeadSinkAndBlockedSourceAccountsForEverything) {
  SystemClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t", 30), std::make_unique<CollectingSink>(/*down=*/true)).is_ok());
  auto src = std::make_unique<BlockingSource>();
  auto* ps = src.get();
  ASSERT_TRUE(p.add_source(std::move(src), normalizer("blocker"), {"t"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());
  while (p.lanes()[0]->queue_size() < 30) std::this_thread::yield();
  p.stop(std::chrono::milliseconds(50));
  const auto& c = p.lanes()[0]->counters();
  EXPECT_EQ(c.delivered, 0u);
  // Everything the source handed over (accepted or refused at the deadline) is counted dropped.
  EXPECT_EQ(c.dropped_shutdown, ps->handed.load());
  EXPECT_EQ(ps->dropped, ps->handed.load());
}

}  // namespace
}  // namespace uc::pipeline
