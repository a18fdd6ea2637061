// One source started and stopped 1,000 times while another runs: every start connects
// for real (OPC UA and Modbus sources against the in-process simulators over loopback, the
// MQTT source against a mosquitto child process), every stop releases what the run took. Proven by the process's open file descriptors
// and threads (equal before and after) and its resident memory (flat within allocator
// noise), read from /proc/self.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "normalize/normalizer.h"
#include "pipeline/pipeline.h"
#include "simulator/modbus/modbus_server.h"
#include "simulator/opcua/opcua_server.h"
#include "sources/modbus/modbus_source.h"
#include "sources/mqtt/mqtt_source.h"
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

// A loopback TCP listener that never answers (port 0: the kernel picks one). With
// backlog 0 and filled(), further connects hang in the TCP handshake.
class SilentListener {
 public:
  explicit SilentListener(int backlog = 16) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, backlog) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "listener: " << std::strerror(errno);
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() {
    for (int fd : held_) ::close(fd);
    ::close(fd_);
  }
  int port() const { return port_; }
  // Accepts one connection (bounded wait) and waits for its first bytes: true when the
  // client connected and sent something (a CONNECT, a TLS ClientHello).
  bool accept_and_hear() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return false;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return false;
    held_.push_back(c);
    pollfd q{c, POLLIN, 0};
    return ::poll(&q, 1, 5000) == 1;
  }
  // Connects a few sockets nobody accepts, so the accept queue is full.
  void fill() {
    for (int i = 0; i < 3; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(port_));
      (void)::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      held_.push_back(c);
    }
    std::this_thread::sleep_for(50ms);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> held_;
};

int free_port() {
  SilentListener probe;
  return probe.port();
}

// A private mosquitto broker (the Debian package, /usr/sbin/mosquitto), a child process
// on a free loopback port, anonymous, nothing persisted. Stopped (SIGTERM) on destruction.
class Mosquitto {
 public:
  Mosquitto() : dir_(std::filesystem::temp_directory_path() / ("uc_lifecycle_mosq_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    port_ = free_port();
    const std::string conf = (dir_ / "mosquitto.conf").string();
    std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\npersistence false\n"
                        << "log_dest none\nuser " << ::getpwuid(::geteuid())->pw_name << "\n";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const char* argv[] = {kBinary, "-c", conf.c_str(), nullptr};
    if (::posix_spawn(&pid_, kBinary, &actions, nullptr, const_cast<char* const*>(argv), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Mosquitto() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  int port() const { return port_; }
  // Waits (bounded) until the broker accepts connections.
  bool ready() const {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(port_));
      const bool up = ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(c);
      if (up) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

 private:
  static constexpr const char* kBinary = "/usr/sbin/mosquitto";
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

sources::mqtt::Options mqtt_options(int port) {
  sources::mqtt::Options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.topics = {"lifecycle/#"};
  return o;
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

TEST_F(SourceLifecycle, AnMqttSourceStartedAndStoppedAThousandTimesReleasesEverything) {
  Mosquitto broker;
  ASSERT_TRUE(broker.ready()) << "mosquitto did not start";
  add(std::make_unique<sources::mqtt::MqttSource>("mq", mqtt_options(broker.port())), "mqtt");
  run_cycles("mq");
}

// A stop ends a connect, a TLS handshake, the wait for CONNACK and the back-off at once,
// not after their own timeouts (5 s, 10 s).
TEST_F(SourceLifecycle, AnMqttSourceStopsPromptlyWhileTheBrokerIsUnreachableOrConnecting) {
  const auto stop_takes = [&](const std::string& name) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(pipeline_.stop_source(name).is_ok());
    EXPECT_EQ(pipeline_.source_state(name), pipeline::ComponentState::kStopped);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  };
  constexpr auto kPrompt = 1000ms;

  const int closed_port = free_port();  // nothing listens: refused, then the back-off
  add(std::make_unique<sources::mqtt::MqttSource>("refused", mqtt_options(closed_port)), "mqtt");
  std::this_thread::sleep_for(200ms);
  EXPECT_LT(stop_takes("refused"), kPrompt);

  SilentListener silent;  // connects, sends CONNECT, no CONNACK comes
  add(std::make_unique<sources::mqtt::MqttSource>("no-connack", mqtt_options(silent.port())), "mqtt");
  ASSERT_TRUE(silent.accept_and_hear());
  EXPECT_LT(stop_takes("no-connack"), kPrompt);

  SilentListener silent_tls;  // sends the ClientHello, no ServerHello comes
  auto tls = mqtt_options(silent_tls.port());
  tls.tls.enabled = true;
  add(std::make_unique<sources::mqtt::MqttSource>("tls-handshake", tls), "mqtt");
  ASSERT_TRUE(silent_tls.accept_and_hear());
  EXPECT_LT(stop_takes("tls-handshake"), kPrompt);

  SilentListener full(0);  // accept queue full: the TCP connect itself waits
  full.fill();
  add(std::make_unique<sources::mqtt::MqttSource>("syn-sent", mqtt_options(full.port())), "mqtt");
  std::this_thread::sleep_for(200ms);
  EXPECT_NE(pipeline_.source_state("syn-sent"), pipeline::ComponentState::kConnected);
  EXPECT_LT(stop_takes("syn-sent"), kPrompt);
}

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
