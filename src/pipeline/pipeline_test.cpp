#include "pipeline/pipeline.h"
#include "pipeline/metrics.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <sstream>
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

// /api/status and /metrics are read from the same counters: after a delivered batch, every
// family carries exactly the number the status document shows, under the documented names.
TEST(PipelineMetrics, StatusAndMetricsShowTheSameCounters) {
  SystemClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t1"), std::make_unique<CollectingSink>()).is_ok());
  auto src = std::make_unique<ManualSource>("m");
  auto* ps = src.get();
  ASSERT_TRUE(p.add_source(std::move(src), normalizer("m"), {"t1"}, "synthetic").is_ok());
  telemetry::MetricsRegistry registry;
  bind_metrics(p, registry);
  ASSERT_TRUE(p.start().is_ok());
  std::promise<BatchOutcome> done;
  ASSERT_TRUE(ps->context()->publish(samples(7), [&](const BatchOutcome& o) { done.set_value(o); }));
  EXPECT_EQ(done.get_future().get().delivered, 7u);
  p.stop(std::chrono::seconds(5));

  const auto st = p.status();
  const auto m = registry.to_json();
  const auto value = [&](const std::string& family, const nlohmann::json& labels) {
    for (const auto& v : m.at(family)["values"]) {
      if (v["labels"] == labels) return v["value"];
    }
    ADD_FAILURE() << family << " has no series " << labels.dump();
    return nlohmann::json();
  };
  const nlohmann::json src_labels = {{"source", "m"}};
  const auto& s0 = st["sources"][0];
  EXPECT_EQ(s0["records_received"], 7);
  EXPECT_EQ(value("uc_records_received_total", src_labels), s0["records_received"]);
  EXPECT_EQ(value("uc_records_normalized_total", src_labels), s0["records_normalized"]);
  EXPECT_EQ(value("uc_reconnections_total", src_labels), s0["reconnections"]);
  EXPECT_EQ(value("uc_source_errors_total", src_labels), s0["errors"]);
  EXPECT_EQ(value("uc_tag_path_collisions", src_labels), s0["path_collisions"]);
  EXPECT_EQ(value("uc_source_state", {{"source", "m"}, {"state", "stopped"}}), 1);
  EXPECT_EQ(value("uc_source_state", {{"source", "m"}, {"state", "connected"}}), 0);

  const auto& t0 = st["targets"][0];
  const nlohmann::json lane = {{"target", "t1"}, {"sink", "collect"}};
  EXPECT_EQ(t0["records_delivered"], 7);
  EXPECT_EQ(value("uc_records_delivered_total", lane), t0["records_delivered"]);
  EXPECT_EQ(value("uc_records_enqueued_total", lane), t0["records_enqueued"]);
  EXPECT_EQ(value("uc_records_spooled_total", lane), t0["records_spooled"]);
  EXPECT_EQ(value("uc_records_dead_lettered_total", lane), t0["records_dead_lettered"]);
  EXPECT_EQ(value("uc_batches_sent_total", lane), t0["batches_sent"]);
  EXPECT_EQ(value("uc_batches_failed_total", lane), t0["batches_failed"]);
  for (const auto& [key, reason] : {std::pair{"oldest", "drop_oldest"}, std::pair{"newest", "drop_newest"},
                                    std::pair{"shutdown", "shutdown"}, std::pair{"rejected", "rejected"},
                                    std::pair{"corrupt", "corrupt"}}) {
    EXPECT_EQ(value("uc_records_dropped_total", {{"target", "t1"}, {"sink", "collect"}, {"reason", reason}}),
              t0["records_dropped"][key])
        << key;
  }
  EXPECT_EQ(value("uc_queue_capacity", lane), t0["queue_capacity"]);
  EXPECT_EQ(value("uc_circuit_breaker_state", lane), 0);
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

namespace uc::pipeline {
namespace {

// A source that reports one state (and its detail as the last error) and waits for its stop.
class StateSource final : public Source {
 public:
  StateSource(std::string name, ComponentState state, std::string detail)
      : name_(std::move(name)), state_(state), detail_(std::move(detail)) {}
  const std::string& name() const override { return name_; }
  void run(SourceContext& ctx) override {
    if (!detail_.empty()) ctx.count_error(detail_);
    ctx.set_state(state_, detail_);
    while (ctx.wait_for(std::chrono::hours(1))) {
    }
  }

 private:
  std::string name_;
  ComponentState state_;
  std::string detail_;
};

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 5000 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return pred();
}

TEST(PipelineReadiness, EverySourceDownIsNotReadyOneUpIs) {
  SystemClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t"), std::make_unique<CollectingSink>()).is_ok());
  ASSERT_TRUE(p.add_source(std::make_unique<StateSource>("a", ComponentState::kConnecting, "refused"), normalizer("a"),
                           {"t"}, "synthetic")
                  .is_ok());
  ASSERT_TRUE(p.add_source(std::make_unique<StateSource>("b", ComponentState::kConnected, ""), normalizer("b"), {"t"},
                           "synthetic")
                  .is_ok());
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(eventually([&] { return p.source_state("b") == ComponentState::kConnected; }));
  ASSERT_TRUE(eventually([&] { return p.source_state("a") == ComponentState::kConnecting; }));
  EXPECT_TRUE(p.unready_reasons().empty());
  ASSERT_TRUE(p.stop_source("b").is_ok());  // a stopped source does not count, the other is down
  // a's body reports its error on its own thread: wait for it rather than race it.
  const std::vector<std::string> want = {"every source is down: a connecting: refused"};
  ASSERT_TRUE(eventually([&] { return p.unready_reasons() == want; })) << ::testing::PrintToString(p.unready_reasons());
  p.stop(std::chrono::seconds(5));
}

// Issue 20: last_error stayed in /api/status while the source was connected and healthy
// (the demo showed "DDATA before NBIRTH" for ever). It is shown while it matters — the
// source is not connected, or the error is under a minute old — and last_error_at keeps
// when it happened.
TEST(PipelineStatus, LastErrorClearsOnceTheSourceIsHealthyAndItsTimeStays) {
  ManualClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t"), std::make_unique<CollectingSink>()).is_ok());
  auto src = std::make_unique<ManualSource>("m");
  auto* ps = src.get();
  ASSERT_TRUE(p.add_source(std::move(src), normalizer("m"), {"t"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());
  SourceContext* ctx = ps->context();
  ASSERT_TRUE(eventually([&] { return p.source_state("m") == ComponentState::kConnected; }));
  const auto entry = [&] { return p.status()["sources"][0]; };
  EXPECT_EQ(entry()["last_error"], "");
  EXPECT_TRUE(entry()["last_error_at"].is_null());

  ctx->count_error("DDATA before NBIRTH");  // a bad message while connected
  EXPECT_EQ(entry()["last_error"], "DDATA before NBIRTH");
  EXPECT_EQ(entry()["last_error_at"], "2023-11-14T22:13:20.000Z");  // the ManualClock's epoch
  clock.advance_us(59'000'000);
  EXPECT_EQ(entry()["last_error"], "DDATA before NBIRTH");
  clock.advance_us(1'000'000);
  EXPECT_EQ(entry()["last_error"], "");  // a minute on, still connected: healthy
  EXPECT_EQ(entry()["last_error_at"], "2023-11-14T22:13:20.000Z");

  ctx->connection_failed(unavailable("refused"));  // not connected: shown however old
  EXPECT_EQ(entry()["state"], "connecting");
  clock.advance_us(120'000'000);
  EXPECT_EQ(entry()["last_error"], "refused");
  EXPECT_EQ(entry()["last_error_at"], "2023-11-14T22:14:20.000Z");
  ctx->connected();  // recovered: cleared at once
  EXPECT_EQ(entry()["last_error"], "");
  EXPECT_EQ(entry()["last_error_at"], "2023-11-14T22:14:20.000Z");
  p.stop(std::chrono::seconds(0));
}

// A source that flaps between connected and degraded with the same cause logs a few lines,
// then one with the count of those it held back — not a line per flap.
TEST(PipelineStatus, RepeatedStateLinesAreRateLimitedWithACount) {
  ManualClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t"), std::make_unique<CollectingSink>()).is_ok());
  auto src = std::make_unique<ManualSource>("flappy");
  auto* ps = src.get();
  ASSERT_TRUE(p.add_source(std::move(src), normalizer("flappy"), {"t"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());
  SourceContext* ctx = ps->context();
  std::ostringstream out;
  auto logger = telemetry::get_logger("source");
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  logger->sinks().push_back(sink);
  for (int i = 0; i < 100; ++i) {
    ctx->set_state(ComponentState::kDegraded, "unit 3 timed out");
    ctx->set_state(ComponentState::kConnected);
    clock.advance_us(100'000);  // 100 flaps in 10 s
  }
  clock.advance_us(60'000'000);
  ctx->set_state(ComponentState::kDegraded, "unit 3 timed out");
  logger->sinks().pop_back();
  const std::string text = out.str();
  std::size_t lines = 0;
  for (std::size_t at = text.find("degraded: unit 3"); at != std::string::npos; at = text.find("degraded: unit 3", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 4u) << text;  // three, then the one a minute later with the count
  EXPECT_NE(text.find("(suppressed 97 similar messages)"), std::string::npos) << text;
  p.stop(std::chrono::seconds(0));
}

// Issue 20: a message the source took but cannot use goes to the DLQ of every target with
// its address and reason (so MQTT can acknowledge it); a target without a DLQ counts it as
// rejected and the call says so.
TEST(PipelineDeadLetter, ASourcesDeadLetterIsInEveryTargetsDlqWithItsReason) {
  SystemClock clock;
  Pipeline p(clock);
  const std::string dir = ::testing::TempDir() + "uc_pipeline_dead_letter_" + std::to_string(::getpid());
  LaneOptions with_dlq = opts("t1");
  with_dlq.dlq_directory = dir;
  ASSERT_TRUE(p.add_lane(with_dlq, std::make_unique<CollectingSink>()).is_ok());
  ASSERT_TRUE(p.add_lane(opts("t2"), std::make_unique<CollectingSink>()).is_ok());  // no DLQ
  auto src = std::make_unique<ManualSource>("m");
  auto* ps = src.get();
  ASSERT_TRUE(p.add_source(std::move(src), normalizer("m"), {"t1"}, "synthetic").is_ok());
  auto other = std::make_unique<ManualSource>("n");
  auto* po = other.get();
  ASSERT_TRUE(p.add_source(std::move(other), normalizer("n"), {"t1", "t2"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());
  Sample s;
  s.address = "plant/bad";
  s.value = Bytes{{'{', 'x'}};
  s.receive_time = clock.now_us();
  s.status = {ProtocolStatus::Kind::kCommError, 0, "invalid JSON"};
  EXPECT_TRUE(ps->context()->dead_letter(Sample(s), "invalid JSON at 2").is_ok());
  const Lane* t1 = p.lanes()[0];
  ASSERT_NE(t1->dlq(), nullptr);
  EXPECT_EQ(t1->dlq()->count(), 1u);
  auto entries = t1->dlq()->list(0, 10);
  ASSERT_TRUE(entries.is_ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].reason, "invalid JSON at 2");
  EXPECT_NE((*entries)[0].record_json.find("\"address\":\"plant/bad\""), std::string::npos) << (*entries)[0].record_json;
  EXPECT_EQ(t1->counters().dead_lettered.load(), 1u);
  // routed to a target without a DLQ too: in t1's, counted as rejected on t2, and an error
  EXPECT_FALSE(po->context()->dead_letter(Sample(s), "invalid JSON at 2").is_ok());
  EXPECT_EQ(t1->dlq()->count(), 2u);
  EXPECT_EQ(p.lanes()[1]->counters().rejected.load(), 1u);
  p.stop(std::chrono::seconds(1));
  std::filesystem::remove_all(dir);
}

TEST(PipelineReadiness, AnOpenBreakerIsNotReady) {
  SystemClock clock;
  Pipeline p(clock);
  LaneOptions o = opts("t");
  o.breaker.failure_threshold = 1;
  o.breaker.open_duration = std::chrono::hours(1);
  ASSERT_TRUE(p.add_lane(o, std::make_unique<CollectingSink>(/*down=*/true)).is_ok());
  auto src = std::make_unique<ManualSource>("m");
  auto* ps = src.get();
  ASSERT_TRUE(p.add_source(std::move(src), normalizer("m"), {"t"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(ps->context()->publish(samples(3), nullptr));
  ASSERT_TRUE(eventually([&] { return !p.unready_reasons().empty(); }));
  EXPECT_EQ(p.unready_reasons().front(), "target t: circuit breaker open: UNAVAILABLE: down");
  p.stop(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace uc::pipeline

namespace uc::pipeline {
namespace {

// A removed source is stopped and gone from the status; the other keeps running; its
// records were delivered (drain) and its metrics callbacks still read its counters.
TEST(PipelineRemove, RemovesOneSourceWhileTheOtherRuns) {
  SystemClock clock;
  Pipeline p(clock);
  auto sink = std::make_unique<CollectingSink>();
  auto* ps = sink.get();
  ASSERT_TRUE(p.add_lane(opts("t1"), std::move(sink)).is_ok());
  auto a = std::make_unique<ManualSource>("a");
  auto b = std::make_unique<ManualSource>("b");
  auto* pa = a.get();
  auto* pb = b.get();
  ASSERT_TRUE(p.add_source(std::move(a), normalizer("a"), {"t1"}, "synthetic").is_ok());
  ASSERT_TRUE(p.add_source(std::move(b), normalizer("b"), {"t1"}, "synthetic").is_ok());
  telemetry::MetricsRegistry registry;
  bind_metrics(p, registry);
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(pa->context()->publish(samples(5)));
  ASSERT_TRUE(p.remove_source("a", std::chrono::seconds(5)).is_ok());
  EXPECT_EQ(p.remove_source("a").code(), StatusCode::kNotFound);
  EXPECT_EQ(p.start_source("a").code(), StatusCode::kNotFound);
  {
    std::lock_guard lock(ps->mu);
    EXPECT_EQ(ps->paths.size(), 5u);  // drained: delivered before the answer
  }
  EXPECT_NE(registry.render_prometheus().find("uc_records_received_total{source=\"a\"} 5"), std::string::npos);
  ASSERT_TRUE(pb->context()->publish(samples(3)));
  const auto st = p.status();
  ASSERT_EQ(st["sources"].size(), 1u);
  EXPECT_EQ(st["sources"][0]["name"], "b");
  EXPECT_EQ(p.source_state("b"), ComponentState::kConnected);
  p.stop(std::chrono::seconds(5));
}

// publish() feeds the latest-value table; removing or replacing a source drops the paths it
// wrote last (here b shares tag0..tag2 with a and wrote them last).
TEST(PipelineRemove, LatestValuesFollowPublishAndRemoval) {
  SystemClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t1"), std::make_unique<CollectingSink>()).is_ok());
  auto a = std::make_unique<ManualSource>("a");
  auto b = std::make_unique<ManualSource>("b");
  auto* pa = a.get();
  auto* pb = b.get();
  ASSERT_TRUE(p.add_source(std::move(a), normalizer("a"), {"t1"}, "synthetic").is_ok());
  ASSERT_TRUE(p.add_source(std::move(b), normalizer("b"), {"t1"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(pa->context()->publish(samples(5)));
  ASSERT_TRUE(pb->context()->publish(samples(3)));
  LatestValues::Query all;
  auto page = p.latest_values().list(all);
  ASSERT_EQ(page.total, 5u);
  EXPECT_EQ(page.tags.front().tag->source_name, "b");
  EXPECT_EQ(page.tags.back().tag->source_name, "a");
  EXPECT_EQ(page.tags.back().value_str, "4");
  ASSERT_TRUE(p.remove_source("a").is_ok());
  EXPECT_EQ(p.latest_values().size(), 3u);
  ASSERT_TRUE(p.replace_source(std::make_unique<ManualSource>("b"), normalizer("b")).is_ok());
  EXPECT_EQ(p.latest_values().size(), 0u);
  p.stop(std::chrono::seconds(5));
}

TEST(PipelineRemove, DrainTimesOutWhileTheSinkIsDown) {
  SystemClock clock;
  Pipeline p(clock);
  ASSERT_TRUE(p.add_lane(opts("t1"), std::make_unique<CollectingSink>(/*down=*/true)).is_ok());
  auto a = std::make_unique<ManualSource>("a");
  auto* pa = a.get();
  ASSERT_TRUE(p.add_source(std::move(a), normalizer("a"), {"t1"}, "synthetic").is_ok());
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(pa->context()->publish(samples(2)));
  EXPECT_EQ(p.remove_source("a", std::chrono::milliseconds(50)).code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(p.status()["sources"].empty());
  p.stop(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace uc::pipeline
