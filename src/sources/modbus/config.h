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

namespace uc::sources::modbus {

enum class Transport : std::uint8_t { kTcp, kRtu };
enum class Table : std::uint8_t { kCoil, kDiscrete, kHolding, kInput };
enum class DataType : std::uint8_t {
  kBool, kInt16, kUint16, kInt32, kUint32, kInt64, kUint64, kFloat32, kFloat64, kString
};
// Order of the bytes of a 32-bit value as sent, A being the most significant;
// 64-bit values extend the same pattern over four registers.
enum class ByteOrder : std::uint8_t { kABCD, kCDAB, kBADC, kDCBA };
enum class Parity : std::uint8_t { kNone, kEven, kOdd };

const char* to_string(Table t);
const char* to_string(DataType t);

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
  config::Location location;
};

// Number of addresses (registers, or bits for coil/discrete) a value occupies.
int register_width(DataType type, int length);

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
  int timeout_ms = 1000;
  std::vector<Register> registers;
};

// The SourceParser for protocol "modbus".
std::shared_ptr<const config::SourceOptions> parse_options(const config::Reader& node, config::Errors& errors);

}  // namespace uc::sources::modbus
