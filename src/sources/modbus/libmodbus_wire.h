// The wire over libmodbus 3.1 (TCP and RTU). libmodbus is used for framing, CRC and
// the socket/serial I/O only; values are converted by protocols/modbus.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "sources/modbus/config.h"
#include "sources/modbus/wire.h"

struct _modbus;

namespace uc::sources::modbus {

class LibmodbusWire final : public Wire {
 public:
  explicit LibmodbusWire(const Options& options);
  ~LibmodbusWire() override;

  Status connect() override;
  void close() override;
  ReadOutcome read(int unit, Table table, int start, int count, std::uint16_t* regs, std::uint8_t* bits) override;
  void flush() override;
  void interrupt() override;

 private:
  const Options& options_;
  _modbus* ctx_ = nullptr;
  bool connected_ = false;
  std::mutex fd_mu_;  // guards fd_ against interrupt() racing close()
  int fd_ = -1;
  std::uint16_t tid_ = 0;  // last TCP transaction id sent
  bool interrupted_ = false;
};

// Human-readable endpoint ("127.0.0.1:502", "/dev/ttyUSB0 19200 8E1").
std::string describe_endpoint(const Options& options);

}  // namespace uc::sources::modbus
