#include "sources/modbus/modbus_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>

#include "pipeline/source_loop.h"
#include "protocols/modbus/codec.h"
#include "sources/modbus/device_plan.h"
#include "sources/modbus/libmodbus_wire.h"

namespace uc::sources::modbus {
namespace {

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
  std::int64_t retry_at_us = 0;
  bool failed_this_cycle = false;
  ProtocolStatus cause;
};

// One run of the source: the device's poll groups over one Wire, on the runtime's thread.
class DevicePoller {
 public:
  DevicePoller(const Options& options, Wire& wire, pipeline::SourceContext& ctx)
      : plan_(make_device_plan(options)),
        wire_(wire),
        ctx_(ctx),
        due_(plan_.groups.size(), ctx.steady_us()),
        regs_(protocols::modbus::kMaxReadRegisters + 8),
        bits_(protocols::modbus::kMaxReadBits + 8) {}

  void run() {
    ctx_.set_state(ComponentState::kConnecting);
    while (connect() && poll_cycle()) {
    }
    wire_.close();
  }

 private:
  // Until connected (true) or stopping (false); every failed attempt publishes bad samples.
  bool connect() {
    while (!connected_) {
      if (!ctx_.wait_to_connect()) return false;
      const Status s = wire_.connect();
      if (ctx_.stopping()) return false;
      if (s.is_ok()) {
        connected_ = true;
        for (auto& [id, u] : units_) u = UnitState{};
        ctx_.connected();
        return true;
      }
      ctx_.connection_failed(s);
      SampleBatch batch;
      batch.reserve(plan_.tags.size());
      const ProtocolStatus st{ProtocolStatus::Kind::kCommError, 0, s.message()};
      for (const Tag& t : plan_.tags) batch.push_back(ctx_.bad_sample(t.address, t.meta, st));
      if (!ctx_.publish(std::move(batch))) return false;
    }
    return true;
  }

  // Waits for the next due group, reads every due group, publishes one batch.
  bool poll_cycle() {
    const std::int64_t next = due_.empty() ? INT64_MAX : *std::min_element(due_.begin(), due_.end());
    if (!ctx_.wait_until(next)) return false;
    const std::int64_t now = ctx_.steady_us();
    for (auto& [id, u] : units_) u.failed_this_cycle = false;
    SampleBatch batch;
    last_error_.clear();
    lost_.reset();
    for (std::size_t g = 0; g < plan_.groups.size(); ++g) {
      if (due_[g] > now) continue;
      const std::int64_t interval = std::int64_t{plan_.groups[g].interval_ms} * 1000;
      due_[g] += interval;
      if (due_[g] <= now) due_[g] = now + interval;  // fell behind: do not burst
      for (const PlannedRead& read : plan_.groups[g].reads) read_one(read, now, batch);
    }
    finish_cycle();
    return ctx_.publish(std::move(batch));
  }

  void read_one(const PlannedRead& read, std::int64_t now, SampleBatch& batch) {
    UnitState& u = units_[read.unit];
    if (lost_ || u.failed_this_cycle) {
      for (const std::size_t i : read.tags) {
        batch.push_back(ctx_.bad_sample(plan_.tags[i].address, plan_.tags[i].meta, lost_ ? *lost_ : u.cause));
      }
      return;
    }
    if (u.failures > 0 && u.retry_at_us > now) return;  // backing off this unit
    if (ctx_.stopping()) return;
    const ReadOutcome o = wire_.read(read.unit, read.table, read.start, read.count, regs_.data(), bits_.data());
    if (o.ok()) {
      u.failures = 0;
      append_values(read, batch);
      return;
    }
    if (ctx_.stopping()) return;  // the stop shut the socket: not the device's failure
    const ProtocolStatus st = status_of(o);
    last_error_ = "unit " + std::to_string(read.unit) + " " + to_string(read.table) + " " +
                  std::to_string(read.start) + "+" + std::to_string(read.count) + ": " + o.text;
    ctx_.count_error(last_error_);
    for (const std::size_t i : read.tags) batch.push_back(ctx_.bad_sample(plan_.tags[i].address, plan_.tags[i].meta, st));
    if (o.kind == Kind::kTimeout) {
      ++u.failures;
      u.retry_at_us = now + std::chrono::duration_cast<std::chrono::microseconds>(ctx_.backoff().delay(u.failures)).count();
      u.failed_this_cycle = true;
      u.cause = st;
      wire_.flush();
    } else if (o.kind == Kind::kProtocol || o.kind == Kind::kConnection) {
      lost_ = st;
    }
  }

  void append_values(const PlannedRead& read, SampleBatch& batch) {
    const bool bit_table = protocols::modbus::is_bit_table(read.table);
    const std::int64_t t_us = ctx_.clock().now_us();
    for (const std::size_t i : read.tags) {
      const Tag& t = plan_.tags[i];
      const Register& r = *t.reg;
      const auto off = static_cast<std::size_t>(r.address - read.start);
      Sample s;
      s.address = t.address;
      s.meta = t.meta;
      s.receive_time = t_us;
      if (bit_table) {
        s.value = Value(bits_[off] != 0);
      } else {
        auto v = protocols::modbus::decode_registers(
            r.type, r.byte_order,
            std::span<const std::uint16_t>(regs_.data() + off, static_cast<std::size_t>(register_width(r.type, r.length))),
            r.length);
        if (v.is_ok()) {
          s.value = protocols::modbus::apply_scale(std::move(v).value(), r.scale, r.offset);
        } else {
          s.status = {ProtocolStatus::Kind::kCommError, 0, v.status().message()};
        }
      }
      batch.push_back(std::move(s));
    }
  }

  // The device's state after a cycle: a lost connection reconnects after the back-off.
  void finish_cycle() {
    if (lost_) {
      wire_.close();
      connected_ = false;
      ctx_.connection_failed(Status(StatusCode::kUnavailable, last_error_));
      return;
    }
    bool backing_off = false;
    for (const auto& [id, u] : units_) backing_off = backing_off || u.failures > 0;
    if (!last_error_.empty()) {
      ctx_.set_state(ComponentState::kDegraded, last_error_);
    } else if (!backing_off) {
      ctx_.set_state(ComponentState::kConnected);
    }
  }

  const DevicePlan plan_;
  Wire& wire_;
  pipeline::SourceContext& ctx_;
  std::map<int, UnitState> units_;
  std::vector<std::int64_t> due_;  // steady µs per poll group
  std::vector<std::uint16_t> regs_;
  std::vector<std::uint8_t> bits_;
  bool connected_ = false;
  std::string last_error_;                // of the current cycle
  std::optional<ProtocolStatus> lost_;  // the connection broke during the current cycle
};

}  // namespace

std::unique_ptr<Wire> make_libmodbus_wire(const Options& options) {
  return std::make_unique<LibmodbusWire>(options);
}

ModbusSource::ModbusSource(std::string name, Options options, WireFactory factory)
    : name_(std::move(name)), options_(std::move(options)), factory_(std::move(factory)) {}

void ModbusSource::run(pipeline::SourceContext& ctx) {
  std::unique_ptr<Wire> wire = factory_(options_);
  if (!wire) {
    ctx.set_state(ComponentState::kFailed, "no wire for " + describe_endpoint(options_));
    return;
  }
  auto interrupt = ctx.on_interrupt([w = wire.get()] { w->interrupt(); });
  DevicePoller(options_, *wire, ctx).run();
}

}  // namespace uc::sources::modbus
