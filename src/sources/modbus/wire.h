// The wire under the Modbus source (Wire): one blocking client connection (TCP or RTU). A
// transport is used from one thread (the source's), except interrupt(), which any
// thread may call to make a pending or later call return promptly.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "protocols/modbus/types.h"

namespace uc::sources::modbus {

using protocols::modbus::Table;

struct ReadOutcome {
  enum class Kind : std::uint8_t {
    kOk,
    kException,   // the device answered with exception `code`
    kTimeout,     // no (complete) answer within the response timeout
    kProtocol,    // an answer that is malformed, for another unit or function, bad CRC, ...
    kConnection,  // the connection is gone (reset, closed, not connected)
  };
  Kind kind = Kind::kOk;
  int code = 0;      // exception code for kException
  std::string text;  // cause, for everything but kOk

  bool ok() const { return kind == Kind::kOk; }
};

class Wire {
 public:
  virtual ~Wire() = default;
  // Opens the connection (TCP connect or serial open); the error says why not.
  virtual Status connect() = 0;
  virtual void close() = 0;
  // Reads `count` registers (into regs) or bits (into bits, one byte per bit, 0/1) of
  // `table` starting at protocol address `start`, from unit `unit`.
  virtual ReadOutcome read(int unit, Table table, int start, int count, std::uint16_t* regs, std::uint8_t* bits) = 0;
  // Discards whatever the peer sent late (after a timeout), so the next answer matches.
  virtual void flush() = 0;
  // Thread-safe: unblocks a pending connect/read (stop() uses it).
  virtual void interrupt() = 0;
};

}  // namespace uc::sources::modbus
