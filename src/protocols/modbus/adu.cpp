#include "protocols/modbus/adu.h"

#include <cstdio>

namespace uc::protocols::modbus {
namespace {

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned>(p[0]) << 8U) | p[1]);
}

std::string hex8(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", v & 0xFFU);
  return buf;
}

ReadAnswer malformed(std::string why) { return {ReadAnswer::Kind::kMalformed, 0, std::move(why)}; }

}  // namespace

std::uint16_t crc16_modbus(std::span<const std::uint8_t> bytes) {
  std::uint16_t crc = 0xFFFF;
  for (const std::uint8_t b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 1U) != 0 ? static_cast<std::uint16_t>((crc >> 1U) ^ 0xA001U) : static_cast<std::uint16_t>(crc >> 1U);
    }
  }
  return crc;
}

std::array<std::uint8_t, 5> read_request_pdu(Table table, std::uint16_t start, std::uint16_t count) {
  return {static_cast<std::uint8_t>(read_function_code(table)), static_cast<std::uint8_t>(start >> 8U),
          static_cast<std::uint8_t>(start & 0xFFU), static_cast<std::uint8_t>(count >> 8U),
          static_cast<std::uint8_t>(count & 0xFFU)};
}

std::array<std::uint8_t, 12> tcp_read_request(std::uint16_t tid, std::uint8_t unit, Table table, std::uint16_t start,
                                              std::uint16_t count) {
  const auto pdu = read_request_pdu(table, start, count);
  std::array<std::uint8_t, 12> adu{static_cast<std::uint8_t>(tid >> 8U), static_cast<std::uint8_t>(tid & 0xFFU), 0, 0,
                                   0, static_cast<std::uint8_t>(1 + pdu.size()), unit};
  for (std::size_t i = 0; i < pdu.size(); ++i) adu[kTcpHeaderSize + i] = pdu[i];
  return adu;
}

std::array<std::uint8_t, 8> rtu_read_request(std::uint8_t unit, Table table, std::uint16_t start,
                                             std::uint16_t count) {
  const auto pdu = read_request_pdu(table, start, count);
  std::array<std::uint8_t, 8> adu{unit};
  for (std::size_t i = 0; i < pdu.size(); ++i) adu[1 + i] = pdu[i];
  const std::uint16_t crc = crc16_modbus(std::span(adu.data(), 6));
  adu[6] = static_cast<std::uint8_t>(crc & 0xFFU);
  adu[7] = static_cast<std::uint8_t>(crc >> 8U);
  return adu;
}

ReadAnswer parse_read_answer(std::span<const std::uint8_t> adu, const ReadExpectation& expect, std::uint16_t* regs,
                             std::uint8_t* bits) {
  std::span<const std::uint8_t> pdu;
  std::uint8_t unit = 0;
  if (expect.framing == Framing::kTcp) {
    if (adu.size() < kTcpHeaderSize + 2) {
      return malformed("answer of " + std::to_string(adu.size()) + " bytes is shorter than a Modbus TCP header");
    }
    if (adu.size() > kMaxTcpAduSize) return malformed("answer of " + std::to_string(adu.size()) + " bytes is too long");
    const std::uint16_t tid = be16(adu.data());
    const std::uint16_t protocol = be16(adu.data() + 2);
    const std::uint16_t length = be16(adu.data() + 4);
    if (protocol != 0) return malformed("protocol id " + std::to_string(protocol) + " in the answer, expected 0");
    if (tid != expect.tid) {
      return malformed("transaction id " + std::to_string(tid) + " in the answer, expected " +
                       std::to_string(expect.tid));
    }
    if (length != adu.size() - 6) {
      return malformed("header length " + std::to_string(length) + " does not match the " +
                       std::to_string(adu.size() - 6) + " bytes that follow it");
    }
    unit = adu[6];
    pdu = adu.subspan(kTcpHeaderSize);
  } else {
    if (adu.size() < 5) {
      return malformed("answer of " + std::to_string(adu.size()) + " bytes is shorter than a Modbus RTU frame");
    }
    if (adu.size() > kMaxRtuAduSize) return malformed("answer of " + std::to_string(adu.size()) + " bytes is too long");
    const std::size_t body = adu.size() - 2;
    const std::uint16_t want = crc16_modbus(adu.first(body));
    const auto got = static_cast<std::uint16_t>(adu[body] | (static_cast<unsigned>(adu[body + 1]) << 8U));
    if (want != got) return malformed("CRC mismatch in the answer");
    unit = adu[0];
    pdu = adu.subspan(1, body - 1);
  }
  if (unit != expect.unit) {
    return malformed("answer from unit id " + std::to_string(unit) + ", expected " + std::to_string(expect.unit));
  }
  const auto function = static_cast<std::uint8_t>(read_function_code(expect.table));
  if (pdu[0] == (function | 0x80U)) {
    if (pdu.size() != 2) return malformed("exception answer of " + std::to_string(pdu.size()) + " bytes, expected 2");
    return {ReadAnswer::Kind::kException, pdu[1], exception_name(pdu[1])};
  }
  if (pdu[0] != function) return malformed("function code " + hex8(pdu[0]) + " in the answer, expected " + hex8(function));
  const bool bit_table = is_bit_table(expect.table);
  const std::size_t want_bytes = bit_table ? (expect.count + 7U) / 8U : 2U * expect.count;
  if (pdu.size() < 2) return malformed("answer without a byte count");
  if (pdu[1] != want_bytes) {
    return malformed("byte count " + std::to_string(pdu[1]) + " in the answer, expected " + std::to_string(want_bytes));
  }
  if (pdu.size() != 2 + want_bytes) {
    return malformed("answer carries " + std::to_string(pdu.size() - 2) + " data bytes, its byte count says " +
                     std::to_string(want_bytes));
  }
  const std::uint8_t* data = pdu.data() + 2;
  if (bit_table) {
    for (std::size_t i = 0; i < expect.count; ++i) bits[i] = (data[i / 8] >> (i % 8)) & 1U;
  } else {
    for (std::size_t i = 0; i < expect.count; ++i) regs[i] = be16(data + 2 * i);
  }
  return {ReadAnswer::Kind::kOk, 0, {}};
}

}  // namespace uc::protocols::modbus
