// Modbus read requests and their answers as bytes (sans-IO). libmodbus moves the frames
// (socket or serial port, timeouts, the RTU CRC on sending); these functions build the
// request and check every field of the answer ourselves, because libmodbus 3.1.6 does
// not check the unit id of a TCP answer (research/protocols.md §7).
//
// TCP ADU:  tid(2) protocol=0(2) length(2) unit(1) | PDU          (length = 1 + PDU size)
// RTU ADU:  unit(1) | PDU | CRC-16/MODBUS (2, low byte first)
// Read PDU: function(1) start(2) quantity(2); answer: function(1) byte_count(1) data, or
//           function|0x80(1) exception_code(1).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "protocols/modbus/types.h"

namespace uc::protocols::modbus {

inline constexpr std::size_t kTcpHeaderSize = 7;
inline constexpr std::size_t kMaxPduSize = 253;
inline constexpr std::size_t kMaxTcpAduSize = kTcpHeaderSize + kMaxPduSize;  // 260
inline constexpr std::size_t kMaxRtuAduSize = 1 + kMaxPduSize + 2;           // 256

enum class Framing : std::uint8_t { kTcp, kRtu };

// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF).
std::uint16_t crc16_modbus(std::span<const std::uint8_t> bytes);

// The read request PDU (5 bytes) for `count` registers or bits of `table` from `start`.
std::array<std::uint8_t, 5> read_request_pdu(Table table, std::uint16_t start, std::uint16_t count);

// The whole TCP request ADU (12 bytes).
std::array<std::uint8_t, 12> tcp_read_request(std::uint16_t tid, std::uint8_t unit, Table table, std::uint16_t start,
                                              std::uint16_t count);

// The whole RTU request ADU with its CRC (8 bytes).
std::array<std::uint8_t, 8> rtu_read_request(std::uint8_t unit, Table table, std::uint16_t start,
                                             std::uint16_t count);

// What a read request expects of its answer.
struct ReadExpectation {
  Framing framing = Framing::kTcp;
  std::uint16_t tid = 0;  // TCP only
  std::uint8_t unit = 1;
  Table table = Table::kHolding;
  std::uint16_t count = 1;  // registers or bits
};

struct ReadAnswer {
  enum class Kind : std::uint8_t { kOk, kException, kMalformed };
  Kind kind = Kind::kMalformed;
  int exception_code = 0;  // kException
  std::string error;       // kMalformed: what was wrong, naming the field and both values
  bool ok() const { return kind == Kind::kOk; }
};

// Checks a whole answer ADU (TCP: from the MBAP header; RTU: from the unit id, CRC
// included) against the request and, when it is good, writes `count` registers into
// `regs` (register tables) or `count` bits as 0/1 bytes into `bits` (bit tables). Never
// reads outside `adu`; any length, id, function, count or CRC mismatch is kMalformed.
ReadAnswer parse_read_answer(std::span<const std::uint8_t> adu, const ReadExpectation& expect, std::uint16_t* regs,
                             std::uint8_t* bits);

}  // namespace uc::protocols::modbus
