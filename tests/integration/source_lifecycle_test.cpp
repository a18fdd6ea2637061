// One source started and stopped 1,000 times while another runs: every start connects
// for real (OPC UA and Modbus sources against the in-process simulators over loopback),
// every stop releases what the run took. Proven by the process's open file descriptors
// and threads (equal before and after) and its resident memory (flat within allocator
// noise), read from /proc/self.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "normalize/normalizer.h"
#include "pipeline/pipeline.h"
#include "simulator/modbus/modbus_server.h"
#include "simulator/opcua/opcua_server.h"
#include "sources/modbus/modbus_source.h"
#include "sources/opcua/opcua_source.h"
#include "sources/synthetic/synthetic_source.h"

namespace uc {
namespace {

using namespace std::chrono_literals;

constexpr int kCycles = 1000;
constexpr int kWarmUp = 50;  // allocator pools and lazily made objects settle first

std::size_t count_entries(const char* dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct Usage {
  std::size_t fds, threads;
  long rss_kb;
};
Usage usage() { return {count_entries("/proc/self/fd"), count_entries("/proc/self/task"), rss_kb()}; }

// Waits (bounded) until the descriptor and thread counts hold still for 100 ms.
Usage quiet_usage() {
  const auto until = std::chrono::steady_clock::now() + 5s;
  Usage last = usage();
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
    const Usage now = usage();
    if (now.fds == last.fds && now.threads == last.threads) return now;
    last = now;
  }
  return last;
}

// The simulators run in this process: the server side of the last connection closes on
// the simulator's thread a moment after the client's stop. Waits (bounded) for the
// counts to come back to `before`; a real leak stays and fails the comparison.
Usage settled_usage(const Usage& before) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  Usage now = usage();
  while ((now.fds > before.fds || now.threads > before.threads) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
    now = usage();
  }
  return now;
}

class CountingSink final : public pipeline::Sink {
 public:
  const std::string& name() const override { return name_; }
  Status start() override { return Status::ok(); }
  pipeline::WriteResult write(const std::vector<Record>& batch) override {
    records += batch.size();
    return pipeline::WriteResult::delivered();
  }
  void stop() override {}
  std::atomic<std::uint64_t> records{0};

 private:
  std::string name_ = "count";
};

std::unique_ptr<normalize::Normalizer> normalizer(const std::string& source, const std::string& protocol) {
  normalize::Options o;
  o.defaults = {"s", "a", "l", "e"};
  normalize::SourceInfo info{source, protocol, "", {}, ""};
  return std::move(normalize::Normalizer::create(o, info, std::make_shared<normalize::PathRegistry>())).value();
}

bool wait_state(const pipeline::Pipeline& p, const std::string& name, pipeline::ComponentState s) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (p.source_state(name) != s) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

class SourceLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    simulator::opcua::ServerOptions uo;
    uo.port = 0;
    uo.space.variables = 20;
    opcua_ = std::make_unique<simulator::opcua::OpcUaServer>(uo);
    ASSERT_TRUE(opcua_->start().is_ok());
    simulator::modbus::ServerOptions mo;
    mo.port = 0;
    modbus_ = std::make_unique<simulator::modbus::ModbusServer>(mo);
    ASSERT_TRUE(modbus_->start().is_ok());

    pipeline::LaneOptions lo;
    lo.target = "t";
    lo.capacity = 100000;
    lo.policy = pipeline::DropPolicy::kDropOldest;
    lo.batch.linger = 1ms;
    auto sink = std::make_unique<CountingSink>();
    sink_ = sink.get();
    ASSERT_TRUE(pipeline_.add_lane(std::move(lo), std::move(sink)).is_ok());

    sources::synthetic::Options so;
    so.tag_count = 5;
    so.interval_ms = 10;
    add(std::make_unique<sources::synthetic::SyntheticSource>("steady", so), "synthetic");

    sources::opcua::Options ua;
    ua.endpoint = opcua_->endpoint_url();
    ua.mode = sources::opcua::Mode::kSubscription;
    ua.publishing_interval_ms = 50;
    ua.timeout_ms = 2000;
    for (const char* id : {"i=2258", "i=2259"}) {
      sources::opcua::NodeConfig n;
      n.node_id = id;
      ua.nodes.push_back(n);
    }
    add(std::make_unique<sources::opcua::OpcuaSource>("ua", ua), "opcua");

    sources::modbus::Options mb;
    mb.host = "127.0.0.1";
    mb.port = modbus_->port();
    mb.poll_interval_ms = 50;
    sources::modbus::Register r;
    r.name = "r0";
    r.table = sources::modbus::Table::kHolding;
    r.address = r.configured_address = 0;
    r.type = sources::modbus::DataType::kUint16;
    mb.registers.push_back(r);
    add(std::make_unique<sources::modbus::ModbusSource>("mb", mb), "modbus");
    ASSERT_TRUE(pipeline_.start().is_ok());
  }
  void TearDown() override { pipeline_.stop(2s); }

  void add(std::unique_ptr<pipeline::Source> s, const char* protocol) {
    const std::string name = s->name();
    pipeline::SourceRuntimeOptions rt;
    rt.backoff_initial_ms = 20;
    rt.backoff_max_ms = 100;
    ASSERT_TRUE(pipeline_.add_source(std::move(s), normalizer(name, protocol), {"t"}, protocol, rt).is_ok());
  }

  // Starts `name`, waits until it is connected, stops it.
  void cycle(const std::string& name) {
    ASSERT_TRUE(pipeline_.start_source(name).is_ok());
    ASSERT_TRUE(wait_state(pipeline_, name, pipeline::ComponentState::kConnected)) << name;
    ASSERT_TRUE(pipeline_.stop_source(name).is_ok());
    ASSERT_EQ(pipeline_.source_state(name), pipeline::ComponentState::kStopped);
  }

  void run_cycles(const std::string& name) {
    ASSERT_TRUE(pipeline_.stop_source(name).is_ok());
    for (int i = 0; i < kWarmUp; ++i) ASSERT_NO_FATAL_FAILURE(cycle(name));
    const Usage before = quiet_usage();
    const std::uint64_t steady_before = sink_->records.load();
    for (int i = 0; i < kCycles; ++i) ASSERT_NO_FATAL_FAILURE(cycle(name)) << "cycle " << i;
    const Usage after = settled_usage(before);
    EXPECT_EQ(after.fds, before.fds);
    EXPECT_EQ(after.threads, before.threads);
    EXPECT_LT(after.rss_kb - before.rss_kb, 4 * 1024) << "RSS " << before.rss_kb << " -> " << after.rss_kb << " kB";
    // The other source ran on meanwhile.
    EXPECT_GT(sink_->records.load(), steady_before);
    EXPECT_EQ(pipeline_.source_state("steady"), pipeline::ComponentState::kConnected);
    std::cout << name << ": " << kCycles << " start/stop cycles; fds " << before.fds << " -> " << after.fds
              << ", threads " << before.threads << " -> " << after.threads << ", RSS " << before.rss_kb << " -> "
              << after.rss_kb << " kB\n";
  }

  std::unique_ptr<simulator::opcua::OpcUaServer> opcua_;
  std::unique_ptr<simulator::modbus::ModbusServer> modbus_;
  pipeline::Pipeline pipeline_{SystemClock::instance()};
  CountingSink* sink_ = nullptr;
};

TEST_F(SourceLifecycle, AnOpcUaSourceStartedAndStoppedAThousandTimesReleasesEverything) { run_cycles("ua"); }

TEST_F(SourceLifecycle, AModbusSourceStartedAndStoppedAThousandTimesReleasesEverything) { run_cycles("mb"); }

TEST_F(SourceLifecycle, AReplacedSourceRunsTheNewConfigurationAndKeepsItsCounters) {
  ASSERT_TRUE(wait_state(pipeline_, "mb", pipeline::ComponentState::kConnected));
  sources::modbus::Options bad;
  bad.host = "127.0.0.1";
  bad.port = 1;  // nothing listens: the replacement cannot connect
  sources::modbus::Register r;
  r.name = "r0";
  r.table = sources::modbus::Table::kHolding;
  r.type = sources::modbus::DataType::kUint16;
  bad.registers.push_back(r);
  const auto received_before = [&] {
    for (const auto& v : pipeline_.sources()) {
      if (v.name == "mb") return v.counters->received.load();
    }
    return std::uint64_t{0};
  }();
  ASSERT_TRUE(pipeline_
                  .replace_source(std::make_unique<sources::modbus::ModbusSource>("mb", bad), normalizer("mb", "modbus"))
                  .is_ok());
  ASSERT_TRUE(wait_state(pipeline_, "mb", pipeline::ComponentState::kConnecting));
  for (const auto& v : pipeline_.sources()) {
    if (v.name == "mb") {
      EXPECT_GE(v.counters->received.load(), received_before);
    }
  }
  EXPECT_EQ(pipeline_.replace_source(std::make_unique<sources::modbus::ModbusSource>("nope", bad),
                                     normalizer("nope", "modbus"))
                .code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace uc
