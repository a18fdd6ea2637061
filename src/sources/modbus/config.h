// Options of a Modbus source (SPEC §4, Appendix A). Validated at load; used by
// the Modbus source when it starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/reader.h"
#include "protocols/modbus/adu.h"
#include "protocols/modbus/types.h"

namespace uc::sources::modbus {

// The transport is the wire's framing: kTcp (MBAP over TCP) or kRtu (serial, CRC).
using Transport = protocols::modbus::Framing;
enum class Parity : std::uint8_t { kNone, kEven, kOdd };
// Tables, types and orders are the wire's vocabulary (protocols/modbus/types.h).
using protocols::modbus::ByteOrder;
using protocols::modbus::DataType;
using protocols::modbus::register_width;
using protocols::modbus::Table;
using protocols::modbus::to_string;

struct Register {
  std::string name;  // unique within the source
  Table table = Table::kHolding;
  int address = 0;             // protocol (0-based) address
  int configured_address = 0;  // as written; one-based when zero_based is false
  DataType type = DataType::kUint16;
  int length = 0;  // for kString: characters (two per register)
  ByteOrder byte_order = ByteOrder::kABCD;  // the source's byte_order unless set
  double scale = 1.0;                       // value * scale + offset
  double offset = 0.0;
  std::string unit;
  std::optional<int> unit_id;  // nullopt: every unit id of the source
  int poll_interval_ms = 0;    // the source's poll_interval_ms unless set (a tag group)
  config::Location location;
};

struct Options : config::SourceOptions {
  Transport transport = Transport::kTcp;
  std::string host;  // kTcp
  int port = 502;
  std::string device;  // kRtu: /dev/ttyUSB0
  int baud = 9600;
  Parity parity = Parity::kNone;
  int stop_bits = 1;
  int data_bits = 8;
  std::vector<int> unit_ids{1};  // from unit_id or unit_ids
  int poll_interval_ms = 1000;
  ByteOrder byte_order = ByteOrder::kABCD;
  bool zero_based = true;
  int timeout_ms = 1000;         // response timeout of one request
  int max_gap = 10;              // unused addresses a coalesced read may bridge
  int max_registers_per_request = 125;
  int max_bits_per_request = 2000;
  std::vector<Register> registers;
};

// The SourceParser for protocol "modbus".
std::shared_ptr<const config::SourceOptions> parse_options(const config::Reader& node, config::Errors& errors);

}  // namespace uc::sources::modbus
