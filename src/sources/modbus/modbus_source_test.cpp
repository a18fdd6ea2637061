// The Modbus source's polling, decoding and failure isolation against a scripted
// transport; the plan's request counts. Real peers are in tests/interop/.
#include "sources/modbus/modbus_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "pipeline/fake_emitter.h"
#include "pipeline/source_loop.h"
#include "protocols/modbus/codec.h"
#include "sources/modbus/all_orders.h"
#include "sources/modbus/device_plan.h"

namespace uc::sources::modbus {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

// A device: register and bit tables per unit; per-unit failure switches.
struct FakeDevice {
  std::mutex mu;
  std::map<int, std::map<int, std::uint16_t>> regs;  // unit → address → value
  std::map<int, std::map<int, std::uint8_t>> bits;
  std::map<int, ReadOutcome> fail_unit;  // unit → outcome to answer instead
  bool refuse_connect = false;
  bool drop_connection = false;  // next read answers kConnection
  bool block_reads = false;      // reads wait for interrupt(), then fail as a shut-down socket does
  bool interrupted = false;
  std::condition_variable cv;
  int connects = 0;
  int reads = 0;
};

class FakeWire final : public Wire {
 public:
  explicit FakeWire(FakeDevice& d) : d_(d) {}
  Status connect() override {
    std::lock_guard lock(d_.mu);
    ++d_.connects;
    if (d_.refuse_connect) return unavailable("connect to fake: Connection refused");
    connected_ = true;
    return Status::ok();
  }
  void close() override { connected_ = false; }
  ReadOutcome read(int unit, Table table, int start, int count, std::uint16_t* regs, std::uint8_t* bits) override {
    std::unique_lock lock(d_.mu);
    ++d_.reads;
    d_.cv.notify_all();
    if (d_.block_reads) {
      d_.cv.wait(lock, [&] { return d_.interrupted; });
      return {ReadOutcome::Kind::kConnection, 0, "Connection reset by peer"};
    }
    if (!connected_) return {ReadOutcome::Kind::kConnection, 0, "not connected"};
    if (d_.drop_connection) {
      d_.drop_connection = false;
      return {ReadOutcome::Kind::kConnection, 0, "Connection reset by peer"};
    }
    if (auto it = d_.fail_unit.find(unit); it != d_.fail_unit.end()) return it->second;
    for (int i = 0; i < count; ++i) {
      if (protocols::modbus::is_bit_table(table)) {
        bits[i] = d_.bits[unit][start + i];
      } else {
        regs[i] = d_.regs[unit][start + i];
      }
    }
    return {};
  }
  void flush() override {}
  void interrupt() override {
    std::lock_guard lock(d_.mu);
    d_.interrupted = true;
    d_.cv.notify_all();
  }

 private:
  FakeDevice& d_;
  bool connected_ = false;
};

// One run of a ModbusSource on the source runtime, with a clock the test moves: each
// next() moves it in 5 ms steps until the source publishes.
class SourceRun {
 public:
  SourceRun(FakeDevice& dev, const Options& o, int backoff_ms = 50)
      : src_("m", o, [&dev](const Options&) { return std::make_unique<FakeWire>(dev); }),
        loop_(src_, em, runtime(backoff_ms)) {
    EXPECT_TRUE(loop_.start().is_ok());
  }
  ~SourceRun() { stop(); }
  SampleBatch next() { return em.next_advancing(clock, 5000); }
  void stop() { loop_.stop(); }
  std::vector<std::pair<pipeline::ComponentState, std::string>> states() { return em.states(); }

  ManualClock clock;
  pipeline::testing::FakeEmitter em{clock};

 private:
  static pipeline::SourceRuntimeOptions runtime(int backoff_ms) {
    pipeline::SourceRuntimeOptions r;
    r.endpoint = "fake";
    r.backoff_initial_ms = backoff_ms;
    r.backoff_max_ms = backoff_ms;
    return r;
  }
  ModbusSource src_;
  pipeline::SourceLoop loop_;
};

Register reg(std::string name, Table table, int address, DataType type, ByteOrder order = ByteOrder::kABCD) {
  Register r;
  r.name = std::move(name);
  r.table = table;
  r.address = address;
  r.configured_address = address;
  r.type = type;
  r.byte_order = order;
  return r;
}

Options options(std::vector<int> units = {1}) {
  Options o;
  o.host = "fake";
  o.unit_ids = std::move(units);
  o.poll_interval_ms = 20;
  return o;
}

std::map<std::string, const Sample*> by_address(const SampleBatch& b) {
  std::map<std::string, const Sample*> m;
  for (const auto& s : b) m[s.address] = &s;
  return m;
}

void put(FakeDevice& d, int unit, int address, const std::vector<std::uint16_t>& regs) {
  std::lock_guard lock(d.mu);
  for (std::size_t i = 0; i < regs.size(); ++i) d.regs[unit][address + static_cast<int>(i)] = regs[i];
}

TEST(ModbusSource, DecodesEveryTableAndAppliesScale) {
  FakeDevice dev;
  put(dev, 1, 0, {0x2000, 0x47F1});  // 123456.0f in CDAB
  put(dev, 1, 2, {250});
  dev.bits[1][3] = 1;
  Options o = options();
  o.registers = {reg("level", Table::kHolding, 0, DataType::kFloat32, ByteOrder::kCDAB),
                 reg("temp", Table::kHolding, 2, DataType::kUint16), reg("run", Table::kCoil, 3, DataType::kBool)};
  o.registers[1].scale = 0.1;
  o.registers[1].offset = -5;
  o.registers[1].unit = "degC";
  SourceRun run(dev, o);
  const SampleBatch b = run.next();
  run.stop();
  ASSERT_EQ(b.size(), 3u);
  auto m = by_address(b);
  EXPECT_EQ(m.at("1/holding/0")->value, Value(123456.0));
  EXPECT_EQ(m.at("1/holding/2")->value, Value(250 * 0.1 - 5));
  EXPECT_EQ(m.at("1/coil/3")->value, Value(true));
  EXPECT_EQ(m.at("1/holding/2")->meta->unit, "degC");
  EXPECT_EQ(m.at("1/holding/2")->meta->tag_name, "temp");
  EXPECT_EQ(m.at("1/holding/2")->meta->name_path, "temp");
  EXPECT_EQ(m.at("1/holding/0")->meta->data_type, "float32");
  EXPECT_EQ(m.at("1/coil/3")->status.kind, ProtocolStatus::Kind::kNone);
  EXPECT_EQ(run.states().at(1).first, pipeline::ComponentState::kConnected);
}

TEST(ModbusSource, AnExceptionMakesOnlyThatReadBad) {
  FakeDevice dev;
  put(dev, 1, 0, {7});
  put(dev, 2, 0, {8});
  dev.fail_unit[2] = {ReadOutcome::Kind::kException, 2, "Illegal data address"};
  Options o = options({1, 2});
  o.registers = {reg("x", Table::kHolding, 0, DataType::kInt16)};
  SourceRun run(dev, o);
  SampleBatch b = run.next();
  auto m = by_address(b);
  EXPECT_EQ(m.at("1/holding/0")->value, Value(std::int64_t{7}));
  EXPECT_EQ(m.at("1/holding/0")->meta->tag_name, "x_u1");
  EXPECT_EQ(m.at("2/holding/0")->status.kind, ProtocolStatus::Kind::kModbusException);
  EXPECT_EQ(m.at("2/holding/0")->status.code, 2u);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(m.at("2/holding/0")->value));
  // No back-off for an answered exception: the next cycle asks again.
  b = run.next();
  EXPECT_EQ(b.size(), 2u);
  run.stop();
  bool degraded = false;
  for (const auto& [s, d] : run.states()) degraded = degraded || (s == pipeline::ComponentState::kDegraded && d.find("unit 2") != std::string::npos);
  EXPECT_TRUE(degraded);
}

TEST(ModbusSource, ATimeoutBacksOffThatUnitOnlyAndRecovers) {
  FakeDevice dev;
  put(dev, 1, 0, {1});
  put(dev, 2, 0, {2});
  dev.fail_unit[2] = {ReadOutcome::Kind::kTimeout, 0, "no answer within 1000 ms"};
  Options o = options({1, 2});
  o.registers = {reg("x", Table::kHolding, 0, DataType::kUint16)};
  SourceRun run(dev, o);
  const SampleBatch first = run.next();
  auto m = by_address(first);
  EXPECT_EQ(m.at("1/holding/0")->value, Value(std::uint64_t{1}));
  EXPECT_EQ(m.at("2/holding/0")->status.kind, ProtocolStatus::Kind::kTimeout);
  EXPECT_EQ(m.at("2/holding/0")->status.text, "no answer within 1000 ms");
  // While unit 2 backs off, unit 1 keeps its 20 ms pace: a batch with unit 1 only.
  bool unit1_only = false;
  for (int i = 0; i < 20 && !unit1_only; ++i) {
    const SampleBatch b = run.next();
    unit1_only = b.size() == 1 && b[0].address == "1/holding/0";
  }
  EXPECT_TRUE(unit1_only);
  {
    std::lock_guard lock(dev.mu);
    dev.fail_unit.clear();
  }
  bool recovered = false;
  for (int i = 0; i < 50 && !recovered; ++i) {
    const SampleBatch b = run.next();
    auto mm = by_address(b);
    recovered = mm.count("2/holding/0") && mm.at("2/holding/0")->value == Value(std::uint64_t{2});
  }
  run.stop();
  EXPECT_TRUE(recovered);
  EXPECT_EQ(run.em.reconnections_.load(), 0);  // the connection itself stayed up
}

TEST(ModbusSource, ALostConnectionMakesEveryTagBadThenReconnects) {
  FakeDevice dev;
  put(dev, 1, 0, {5});
  dev.bits[1][0] = 1;
  Options o = options();
  o.registers = {reg("x", Table::kHolding, 0, DataType::kUint16), reg("c", Table::kCoil, 0, DataType::kBool)};
  SourceRun run(dev, o);
  EXPECT_EQ(run.next().size(), 2u);
  {
    std::lock_guard lock(dev.mu);
    dev.drop_connection = true;
    dev.refuse_connect = true;
  }
  // The cycle that lost the connection: every tag bad with the cause.
  SampleBatch b;
  for (int i = 0; i < 5; ++i) {
    b = run.next();
    if (b.at(0).status.kind != ProtocolStatus::Kind::kNone) break;
  }
  ASSERT_EQ(b.size(), 2u);
  for (const auto& s : b) {
    EXPECT_EQ(s.status.kind, ProtocolStatus::Kind::kCommError);
    EXPECT_EQ(s.status.text, "Connection reset by peer");
  }
  // Reconnect attempts fail: bad samples with the connect error.
  b = run.next();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].status.text, "connect to fake: Connection refused");
  {
    std::lock_guard lock(dev.mu);
    dev.refuse_connect = false;
  }
  bool good = false;
  for (int i = 0; i < 20 && !good; ++i) {
    b = run.next();
    good = b.size() == 2 && b[0].status.kind == ProtocolStatus::Kind::kNone;
  }
  run.stop();
  EXPECT_TRUE(good);
  EXPECT_GE(run.em.reconnections_.load(), 2);
}

TEST(ModbusSource, StopReturnsPromptlyWhileBackingOff) {
  FakeDevice dev;
  dev.refuse_connect = true;
  Options o = options();
  o.registers = {reg("x", Table::kHolding, 0, DataType::kUint16)};
  SourceRun run(dev, o, 60000);
  EXPECT_EQ(run.next().at(0).status.kind, ProtocolStatus::Kind::kCommError);
  const auto t0 = std::chrono::steady_clock::now();
  run.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

// A read cut short by the stop is not a device failure: no bad samples, no error, no
// "not connected" state or log.
TEST(ModbusSource, AReadCutByTheStopPublishesNothingBadAndCountsNoError) {
  FakeDevice dev;
  dev.block_reads = true;
  Options o = options();
  o.registers = {reg("x", Table::kHolding, 0, DataType::kUint16)};
  SourceRun run(dev, o);
  {
    std::unique_lock lock(dev.mu);
    ASSERT_TRUE(dev.cv.wait_for(lock, 5s, [&] { return dev.reads > 0; }));
  }
  run.stop();
  EXPECT_EQ(run.em.published(), 0u);
  EXPECT_EQ(run.em.errors_.load(), 0);
  for (const auto& [state, detail] : run.states()) EXPECT_TRUE(detail.empty()) << detail;
}

TEST(ModbusDevicePlan, GroupsByIntervalUnitAndTableAndCoalesces) {
  Options o = options({1, 2});
  o.max_gap = 0;
  for (int a = 0; a < 200; a += 2) o.registers.push_back(reg("f" + std::to_string(a), Table::kHolding, a, DataType::kFloat32));
  o.registers.push_back(reg("slow", Table::kInput, 0, DataType::kUint16));
  o.registers.back().poll_interval_ms = 1000;
  o.registers.back().unit_id = 1;
  o.registers.push_back(reg("c0", Table::kCoil, 0, DataType::kBool));
  o.registers.push_back(reg("c1", Table::kCoil, 5, DataType::kBool));
  const DevicePlan p = make_device_plan(o);
  ASSERT_EQ(p.groups.size(), 2u);
  EXPECT_EQ(p.groups[0].interval_ms, 20);
  EXPECT_EQ(p.groups[1].interval_ms, 1000);
  // Per unit: 200 holding registers → 2 reads, coils 0 and 5 (gap 4 > 0) → 2 reads.
  EXPECT_EQ(p.groups[0].reads.size(), 8u);
  EXPECT_EQ(p.groups[1].reads.size(), 1u);
  EXPECT_EQ(p.read_count(), 9u);
  EXPECT_EQ(p.tags.size(), 2u * 102 + 1);
  o.max_gap = 10;
  EXPECT_EQ(make_device_plan(o).read_count(), 7u);
}

TEST(ModbusAllOrders, DecodesEveryOrderAndMarksTheConfiguredOne) {
  FakeDevice dev;
  put(dev, 1, 0, {0x47F1, 0x2000});
  put(dev, 1, 2, {0x0102});
  Options o = options();
  o.registers = {reg("level", Table::kHolding, 0, DataType::kFloat32, ByteOrder::kCDAB),
                 reg("word", Table::kHolding, 2, DataType::kUint16), reg("run", Table::kCoil, 0, DataType::kBool)};
  FakeWire t(dev);
  auto rows = read_all_orders(o, t);
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].values[0], Value(123456.0));
  EXPECT_EQ((*rows)[1].values[2], Value(std::uint64_t{0x0201}));
  const std::string table = format_all_orders(*rows);
  EXPECT_NE(table.find("level  1/holding/0  float32  123456"), std::string::npos) << table;
  EXPECT_NE(table.find("258 *"), std::string::npos) << table;
  {
    std::lock_guard lock(dev.mu);
    dev.fail_unit[1] = {ReadOutcome::Kind::kException, 2, "Illegal data address"};
  }
  rows = read_all_orders(o, t);
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ((*rows)[0].error, "exception 2 (ILLEGAL DATA ADDRESS)");
}

}  // namespace
}  // namespace uc::sources::modbus
