// The Modbus source: one device connection (TCP or RTU), polled on the source
// runtime's thread (pipeline/source_loop.h).
//
// - Blocking libmodbus calls live on that thread only; other sources and devices never
//   wait for it. A stop interrupts a pending TCP call (a serial call ends within
//   timeout_ms).
// - Each poll group (tags sharing a poll interval) is read with the coalesced reads of
//   device_plan.h; the samples of one poll cycle are published as one batch.
// - Failure isolation: an exception answer turns the tags of that read into bad
//   samples (ProtocolStatus kModbusException with the code); a timeout turns the tags
//   of that unit bad (kTimeout) and backs that unit off; a lost connection or a
//   malformed answer turns every tag of the device bad (kCommError with the cause),
//   closes the connection and reconnects with exponential back-off and ±20 % jitter.
//   Every failed attempt publishes bad samples for the tags it concerned; the first
//   good answer afterwards publishes good ones again.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pipeline/source.h"
#include "sources/modbus/config.h"
#include "sources/modbus/wire.h"

namespace uc::sources::modbus {

using WireFactory = std::function<std::unique_ptr<Wire>(const Options&)>;

// The libmodbus transport (the default).
std::unique_ptr<Wire> make_libmodbus_wire(const Options& options);

class ModbusSource final : public pipeline::Source {
 public:
  ModbusSource(std::string name, Options options, WireFactory factory = make_libmodbus_wire);

  const std::string& name() const override { return name_; }
  void run(pipeline::SourceContext& ctx) override;

 private:
  std::string name_;
  Options options_;
  WireFactory factory_;
};

}  // namespace uc::sources::modbus
