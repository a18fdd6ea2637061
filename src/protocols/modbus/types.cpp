#include "protocols/modbus/types.h"

#include <algorithm>

namespace uc::protocols::modbus {

const char* to_string(Table t) {
  switch (t) {
    case Table::kCoil: return "coil";
    case Table::kDiscrete: return "discrete";
    case Table::kHolding: return "holding";
    case Table::kInput: return "input";
  }
  return "?";
}

const char* to_string(DataType t) {
  switch (t) {
    case DataType::kBool: return "bool";
    case DataType::kInt16: return "int16";
    case DataType::kUint16: return "uint16";
    case DataType::kInt32: return "int32";
    case DataType::kUint32: return "uint32";
    case DataType::kInt64: return "int64";
    case DataType::kUint64: return "uint64";
    case DataType::kFloat32: return "float32";
    case DataType::kFloat64: return "float64";
    case DataType::kString: return "string";
  }
  return "?";
}

const char* to_string(ByteOrder o) {
  switch (o) {
    case ByteOrder::kABCD: return "ABCD";
    case ByteOrder::kCDAB: return "CDAB";
    case ByteOrder::kBADC: return "BADC";
    case ByteOrder::kDCBA: return "DCBA";
  }
  return "?";
}

std::optional<ByteOrder> parse_byte_order(std::string_view text) {
  for (const ByteOrder o : kAllOrders) {
    if (text == to_string(o)) return o;
  }
  return std::nullopt;
}

int register_width(DataType type, int length) {
  switch (type) {
    case DataType::kBool:
    case DataType::kInt16:
    case DataType::kUint16: return 1;
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kFloat32: return 2;
    case DataType::kInt64:
    case DataType::kUint64:
    case DataType::kFloat64: return 4;
    case DataType::kString: return std::max(1, (length + 1) / 2);
  }
  return 1;
}

int read_function_code(Table t) {
  switch (t) {
    case Table::kCoil: return 1;
    case Table::kDiscrete: return 2;
    case Table::kHolding: return 3;
    case Table::kInput: return 4;
  }
  return 0;
}

const char* exception_name(int code) {
  switch (code) {
    case 1: return "ILLEGAL FUNCTION";
    case 2: return "ILLEGAL DATA ADDRESS";
    case 3: return "ILLEGAL DATA VALUE";
    case 4: return "SERVER DEVICE FAILURE";
    case 5: return "ACKNOWLEDGE";
    case 6: return "SERVER DEVICE BUSY";
    case 7: return "NEGATIVE ACKNOWLEDGE";
    case 8: return "MEMORY PARITY ERROR";
    case 10: return "GATEWAY PATH UNAVAILABLE";
    case 11: return "GATEWAY TARGET DEVICE FAILED TO RESPOND";
    default: return "UNKNOWN";
  }
}

}  // namespace uc::protocols::modbus
