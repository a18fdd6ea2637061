#include "sources/modbus/modbus_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "core/backoff.h"
#include "protocols/modbus/codec.h"
#include "sources/modbus/device_plan.h"
#include "sources/modbus/libmodbus_wire.h"

namespace uc::sources::modbus {
namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Kind = ReadOutcome::Kind;
using pipeline::ComponentState;

ProtocolStatus status_of(const ReadOutcome& o) {
  ProtocolStatus s;
  switch (o.kind) {
    case Kind::kOk: return s;
    case Kind::kException:
      s.kind = ProtocolStatus::Kind::kModbusException;
      s.code = static_cast<std::uint32_t>(o.code);
      return s;  // the normalizer names the code; libmodbus's text would repeat it
    case Kind::kTimeout: s.kind = ProtocolStatus::Kind::kTimeout; break;
    case Kind::kProtocol:
    case Kind::kConnection: s.kind = ProtocolStatus::Kind::kCommError; break;
  }
  s.text = o.text;
  return s;
}

struct UnitState {
  int failures = 0;
  TimePoint retry_at{};
  bool failed_this_cycle = false;
  ProtocolStatus cause;
};

}  // namespace

std::unique_ptr<Wire> make_libmodbus_wire(const Options& options) {
  return std::make_unique<LibmodbusWire>(options);
}

ModbusSource::ModbusSource(std::string name, Options options, WireFactory factory)
    : name_(std::move(name)), options_(std::move(options)), factory_(std::move(factory)) {}

ModbusSource::~ModbusSource() { stop(); }

Status ModbusSource::start(pipeline::Emitter& emitter) {
  if (thread_.joinable()) return {StatusCode::kFailedPrecondition, "already started"};
  stop_ = false;
  wire_ = factory_(options_);
  if (!wire_) return internal_error("source " + name_ + ": no wire");
  thread_ = std::thread([this, &emitter] { run(emitter); });
  return Status::ok();
}

void ModbusSource::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (wire_) wire_->interrupt();
  if (thread_.joinable()) thread_.join();
}

void ModbusSource::run(pipeline::Emitter& emitter) {
  const DevicePlan plan = make_device_plan(options_);
  Wire& wire = *wire_;
  Backoff backoff(options_.backoff_initial_ms, options_.backoff_max_ms);
  std::map<int, UnitState> units;
  std::vector<TimePoint> due(plan.groups.size(), Clock::now());
  std::vector<std::uint16_t> regs(protocols::modbus::kMaxReadRegisters + 8);
  std::vector<std::uint8_t> bits(protocols::modbus::kMaxReadBits + 8);

  bool connected = false;
  bool had_connection = false;
  int device_failures = 0;
  TimePoint retry_at = Clock::now();
  ComponentState state = ComponentState::kStopped;
  std::string detail;
  auto set_state = [&](ComponentState s, const std::string& d) {
    if (s == state && d == detail) return;
    // The pipeline logs degraded/failed/connected; a lost or refused connection is ours to log.
    if (s != state && s == ComponentState::kConnecting && !d.empty()) {
      spdlog::warn("source={} not connected to {}: {}", name_, describe_endpoint(options_), d);
    }
    state = s;
    detail = d;
    emitter.report_state(s, d);
  };
  // Waits until t or stop; returns false when stopping.
  auto wait_until = [&](TimePoint t) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, t, [&] { return stop_; });
    return !stop_;
  };
  auto bad_sample = [&](const Tag& t, const ProtocolStatus& st) {
    Sample s;
    s.address = t.address;
    s.meta = t.meta;
    s.receive_time = emitter.clock().now_us();
    s.status = st;
    return s;
  };
  auto publish = [&](SampleBatch&& batch) {
    if (batch.empty()) return true;
    return emitter.publish(std::move(batch), nullptr).is_ok();
  };

  set_state(ComponentState::kConnecting, "");
  for (;;) {
    if (!connected) {
      if (!wait_until(retry_at)) break;
      if (had_connection) emitter.count_reconnection();
      const Status s = wire.connect();
      {
        std::lock_guard lock(mu_);
        if (stop_) break;
      }
      if (!s.is_ok()) {
        ++device_failures;
        retry_at = Clock::now() + backoff.delay(device_failures);
        emitter.count_error(s.message());
        ProtocolStatus st{ProtocolStatus::Kind::kCommError, 0, s.message()};
        SampleBatch batch;
        batch.reserve(plan.tags.size());
        for (const Tag& t : plan.tags) batch.push_back(bad_sample(t, st));
        set_state(ComponentState::kConnecting, s.message());
        if (!publish(std::move(batch))) break;
        continue;
      }
      if (had_connection) spdlog::info("source={} reconnected to {}", name_, describe_endpoint(options_));
      connected = true;
      had_connection = true;
      device_failures = 0;
      for (auto& [id, u] : units) u = UnitState{};
      set_state(ComponentState::kConnected, "");
    }

    const TimePoint next = due.empty() ? Clock::now() + std::chrono::hours(1) : *std::min_element(due.begin(), due.end());
    if (!wait_until(next)) break;
    const TimePoint now = Clock::now();
    for (auto& [id, u] : units) u.failed_this_cycle = false;
    SampleBatch batch;
    std::string last_error;
    std::optional<ProtocolStatus> lost;  // the connection broke during this cycle
    for (std::size_t g = 0; g < plan.groups.size(); ++g) {
      if (due[g] > now) continue;
      const auto interval = std::chrono::milliseconds(plan.groups[g].interval_ms);
      due[g] += interval;
      if (due[g] <= now) due[g] = now + interval;  // fell behind: do not burst
      for (const PlannedRead& read : plan.groups[g].reads) {
        UnitState& u = units[read.unit];
        if (lost || u.failed_this_cycle) {
          for (const std::size_t i : read.tags) batch.push_back(bad_sample(plan.tags[i], lost ? *lost : u.cause));
          continue;
        }
        if (u.failures > 0 && u.retry_at > now) continue;  // backing off this unit
        const bool bit_table = protocols::modbus::is_bit_table(read.table);
        const ReadOutcome o = wire.read(read.unit, read.table, read.start, read.count, regs.data(), bits.data());
        const std::int64_t t_us = emitter.clock().now_us();
        if (o.ok()) {
          u.failures = 0;
          for (const std::size_t i : read.tags) {
            const Tag& t = plan.tags[i];
            const Register& r = *t.reg;
            const auto off = static_cast<std::size_t>(r.address - read.start);
            Sample s;
            s.address = t.address;
            s.meta = t.meta;
            s.receive_time = t_us;
            if (bit_table) {
              s.value = Value(bits[off] != 0);
            } else {
              auto v = protocols::modbus::decode_registers(
                  r.type, r.byte_order,
                  std::span<const std::uint16_t>(regs.data() + off, static_cast<std::size_t>(register_width(r.type, r.length))),
                  r.length);
              if (v.is_ok()) {
                s.value = protocols::modbus::apply_scale(std::move(v).value(), r.scale, r.offset);
              } else {
                s.status = {ProtocolStatus::Kind::kCommError, 0, v.status().message()};
              }
            }
            batch.push_back(std::move(s));
          }
          continue;
        }
        const ProtocolStatus st = status_of(o);
        last_error = "unit " + std::to_string(read.unit) + " " + to_string(read.table) + " " +
                     std::to_string(read.start) + "+" + std::to_string(read.count) + ": " + o.text;
        emitter.count_error(last_error);
        for (const std::size_t i : read.tags) batch.push_back(bad_sample(plan.tags[i], st));
        if (o.kind == Kind::kTimeout) {
          ++u.failures;
          u.retry_at = now + backoff.delay(u.failures);
          u.failed_this_cycle = true;
          u.cause = st;
          wire.flush();
        } else if (o.kind == Kind::kProtocol || o.kind == Kind::kConnection) {
          lost = st;
        }
      }
    }
    if (lost) {
      wire.close();
      connected = false;
      ++device_failures;
      retry_at = Clock::now() + backoff.delay(device_failures);
      set_state(ComponentState::kConnecting, last_error);
    } else {
      bool backing_off = false;
      for (const auto& [id, u] : units) backing_off = backing_off || u.failures > 0;
      if (!last_error.empty()) {
        set_state(ComponentState::kDegraded, last_error);
      } else if (!backing_off) {
        set_state(ComponentState::kConnected, "");
      }
    }
    if (!publish(std::move(batch))) break;
  }
  wire.close();
}

}  // namespace uc::sources::modbus
