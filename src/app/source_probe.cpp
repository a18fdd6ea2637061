#include "app/source_probe.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/registry.h"
#include "config/source_document.h"
#include "core/record_codec.h"
#include "normalize/config.h"
#include "pipeline/pipeline.h"

namespace uc::app {
namespace {

constexpr const char* kTarget = "test";
constexpr auto kStopDrain = std::chrono::milliseconds(200);

std::atomic<std::size_t> g_running_tests{0};

// Keeps the first `max` records as JSON and accepts everything (the source is never held).
class CollectingSink final : public pipeline::Sink {
 public:
  explicit CollectingSink(std::size_t max) : max_(max) {}
  const std::string& name() const override { return name_; }
  Status start() override { return Status::ok(); }
  pipeline::WriteResult write(const std::vector<Record>& batch) override {
    std::lock_guard lock(mu_);
    for (const Record& r : batch) {
      if (records_.size() >= max_) break;
      std::string text;
      append_record_json(text, r);
      records_.push_back(nlohmann::json::parse(text, nullptr, false));
    }
    return pipeline::WriteResult::delivered();
  }
  void stop() override {}
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return records_.size();
  }
  nlohmann::json records() const {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  std::string name_ = "test";
  std::size_t max_;
  mutable std::mutex mu_;
  nlohmann::json records_ = nlohmann::json::array();
};

// The source as a test runs it: the protocol's probe options when it has them.
config::SourceConfig probe_config(const config::SourceConfig& source) {
  config::SourceConfig probe = source;
  const auto* r = find_source(source.protocol);
  if (r != nullptr && r->probe_options != nullptr && source.options) {
    if (auto o = r->probe_options(*source.options)) probe.options = std::move(o);
  }
  return probe;
}

// Runs the private pipeline until enough records, the deadline, or a failed source.
void run_until_done(pipeline::Pipeline& p, const CollectingSink& sink, const api::SourceControl::TestLimits& limits,
                    nlohmann::json& view) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limits.timeout;
  pipeline::ComponentState state = pipeline::ComponentState::kStopped;
  while (std::chrono::steady_clock::now() < deadline && sink.count() < limits.max_records) {
    const auto views = p.sources();
    state = views.empty() ? pipeline::ComponentState::kFailed : views.front().state;
    if (state == pipeline::ComponentState::kFailed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto views = p.sources();
  view["state"] = views.empty() ? "failed" : pipeline::component_state_name(views.front().state);
  view["last_error"] = views.empty() ? std::string() : views.front().last_error;
  view["elapsed_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

struct TestSlot {
  bool taken = false;
  TestSlot() {
    taken = g_running_tests.fetch_add(1) < api::SourceControl::kMaxConcurrentTests;
  }
  ~TestSlot() { g_running_tests.fetch_sub(1); }
};

}  // namespace

api::SourceControl::Change probe_source(const config::SourceConfig& source, const normalize::Options& norm,
                                        const api::SourceControl::TestLimits& limits) {
  api::SourceControl::Change change;
  change.view = {{"source", source.name},
                 {"protocol", source.protocol},
                 {"config", config::source_document(source)},
                 {"records", nlohmann::json::array()},
                 {"count", 0},
                 {"complete", false}};
  const TestSlot slot;
  if (!slot.taken) {
    change.status = Status(StatusCode::kResourceExhausted,
                           std::to_string(api::SourceControl::kMaxConcurrentTests) + " tests are running; try again");
    return change;
  }
  const config::SourceConfig probe = probe_config(source);
  auto built = build_source(probe);
  if (!built.is_ok()) {
    change.status = built.status();
    return change;
  }
  auto normalizer =
      normalize::Normalizer::create(norm, normalize::source_info_from(probe), std::make_shared<normalize::PathRegistry>());
  if (!normalizer.is_ok()) {
    change.status = normalizer.status();
    return change;
  }
  pipeline::Pipeline p(SystemClock::instance());
  auto sink = std::make_unique<CollectingSink>(limits.max_records);
  const CollectingSink& collected = *sink;
  pipeline::LaneOptions lane;
  lane.target = kTarget;
  lane.capacity = std::max<std::size_t>(limits.max_records * 2, 1000);
  lane.policy = pipeline::DropPolicy::kDropNewest;  // a test never holds the source back
  lane.batch.max_records = 100;
  lane.batch.linger = std::chrono::milliseconds(5);
  Status s = p.add_lane(lane, std::move(sink));
  if (s.is_ok()) {
    s = p.add_source(std::move(built).value(), std::move(normalizer).value(), {kTarget}, probe.protocol,
                     pipeline::runtime_options_from(probe));
  }
  if (s.is_ok()) s = p.start();
  if (s.is_ok()) run_until_done(p, collected, limits, change.view);
  p.stop(kStopDrain);
  if (!s.is_ok()) {
    change.status = s;
    return change;
  }
  change.view["records"] = collected.records();
  const std::size_t count = change.view["records"].size();
  change.view["count"] = count;
  change.view["complete"] = count >= limits.max_records;
  if (count > 0) return change;
  const std::string last_error = change.view["last_error"];
  if (!last_error.empty()) {
    change.status = unavailable("source " + source.name + " read nothing: " + last_error);
  } else {
    change.status = Status(StatusCode::kDeadlineExceeded, "source " + source.name + " read nothing within " +
                                                              std::to_string(limits.timeout.count()) + " ms");
  }
  return change;
}

}  // namespace uc::app
