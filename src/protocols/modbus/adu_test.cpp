#include "protocols/modbus/adu.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace uc::protocols::modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes tcp_answer(std::uint16_t tid, std::uint8_t unit, Bytes pdu, std::uint16_t protocol = 0) {
  const auto len = static_cast<std::uint16_t>(pdu.size() + 1);
  Bytes out{static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), static_cast<std::uint8_t>(protocol >> 8),
            static_cast<std::uint8_t>(protocol), static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), unit};
  out.insert(out.end(), pdu.begin(), pdu.end());
  return out;
}

Bytes rtu_answer(std::uint8_t unit, Bytes pdu) {
  Bytes out{unit};
  out.insert(out.end(), pdu.begin(), pdu.end());
  const std::uint16_t crc = crc16_modbus(out);
  out.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  out.push_back(static_cast<std::uint8_t>(crc >> 8));
  return out;
}

ReadExpectation tcp(std::uint16_t tid, std::uint8_t unit, Table table, std::uint16_t count) {
  return {Framing::kTcp, tid, unit, table, count};
}

TEST(ModbusAdu, BuildsTheReadRequests) {
  EXPECT_EQ(tcp_read_request(0x1234, 17, Table::kHolding, 0x0102, 10),
            (std::array<std::uint8_t, 12>{0x12, 0x34, 0, 0, 0, 6, 17, 3, 1, 2, 0, 10}));
  // The spec's own example (Modbus over serial line v1.02 §6.2.2): read 3 holding registers
  // from address 0x006B of unit 0x11 has CRC bytes 0x76 0x87.
  EXPECT_EQ(rtu_read_request(0x11, Table::kHolding, 0x006B, 3),
            (std::array<std::uint8_t, 8>{0x11, 0x03, 0x00, 0x6B, 0x00, 0x03, 0x76, 0x87}));
  EXPECT_EQ(read_request_pdu(Table::kCoil, 0, 2000)[0], 1);
  EXPECT_EQ(read_request_pdu(Table::kDiscrete, 0, 1)[0], 2);
  EXPECT_EQ(read_request_pdu(Table::kInput, 0, 1)[0], 4);
}

TEST(ModbusAdu, ParsesRegistersAndBits) {
  std::uint16_t regs[2] = {};
  auto a = parse_read_answer(tcp_answer(7, 1, {3, 4, 0x12, 0x34, 0xAB, 0xCD}), tcp(7, 1, Table::kHolding, 2), regs, nullptr);
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(regs[0], 0x1234);
  EXPECT_EQ(regs[1], 0xABCD);

  std::uint8_t bits[10] = {};
  a = parse_read_answer(rtu_answer(9, {1, 2, 0b1000'0101, 0b10}), {Framing::kRtu, 0, 9, Table::kCoil, 10}, nullptr, bits);
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(Bytes(bits, bits + 10), (Bytes{1, 0, 1, 0, 0, 0, 0, 1, 0, 1}));
}

TEST(ModbusAdu, ReportsExceptions) {
  const auto a = parse_read_answer(tcp_answer(1, 1, {0x84, 2}), tcp(1, 1, Table::kInput, 1), nullptr, nullptr);
  EXPECT_EQ(a.kind, ReadAnswer::Kind::kException);
  EXPECT_EQ(a.exception_code, 2);
}

struct BadCase {
  const char* name;
  Bytes adu;
  ReadExpectation expect;
  const char* error;
};

TEST(ModbusAdu, RejectsEveryMismatchWithAClearError) {
  const auto rtu = [](std::uint8_t unit, Table t, std::uint16_t n) { return ReadExpectation{Framing::kRtu, 0, unit, t, n}; };
  Bytes bad_crc = rtu_answer(1, {3, 2, 0, 1});
  bad_crc.back() ^= 0xFF;
  const std::vector<BadCase> cases = {
      {"another unit", tcp_answer(1, 6, {3, 2, 0, 1}), tcp(1, 5, Table::kHolding, 1), "answer from unit id 6, expected 5"},
      {"another unit rtu", rtu_answer(6, {3, 2, 0, 1}), rtu(5, Table::kHolding, 1), "answer from unit id 6, expected 5"},
      {"another tid", tcp_answer(2, 1, {3, 2, 0, 1}), tcp(1, 1, Table::kHolding, 1), "transaction id 2 in the answer, expected 1"},
      {"protocol id", tcp_answer(1, 1, {3, 2, 0, 1}, 0x1234), tcp(1, 1, Table::kHolding, 1), "protocol id 4660 in the answer, expected 0"},
      {"function", tcp_answer(1, 1, {4, 2, 0, 1}), tcp(1, 1, Table::kHolding, 1), "function code 0x04 in the answer, expected 0x03"},
      {"short", tcp_answer(1, 1, {3, 2, 0, 1}), tcp(1, 1, Table::kHolding, 2), "byte count 2 in the answer, expected 4"},
      {"count lies", tcp_answer(1, 1, {3, 4, 0, 1}), tcp(1, 1, Table::kHolding, 2), "answer carries 2 data bytes, its byte count says 4"},
      {"no count", tcp_answer(1, 1, {3}), tcp(1, 1, Table::kHolding, 1), "shorter than a Modbus TCP header"},
      {"bits count", tcp_answer(1, 1, {1, 2, 0xFF, 1}), tcp(1, 1, Table::kCoil, 8), "byte count 2 in the answer, expected 1"},
      {"exception size", tcp_answer(1, 1, {0x83, 2, 0}), tcp(1, 1, Table::kHolding, 1), "exception answer of 3 bytes, expected 2"},
      {"crc", bad_crc, rtu(1, Table::kHolding, 1), "CRC mismatch"},
      {"rtu short", Bytes{1, 3, 0}, rtu(1, Table::kHolding, 1), "shorter than a Modbus RTU frame"},
      {"empty", Bytes{}, tcp(1, 1, Table::kHolding, 1), "answer of 0 bytes"},
      {"oversized", Bytes(300, 0), tcp(0, 0, Table::kHolding, 1), "300 bytes is too long"},
      {"oversized rtu", Bytes(257, 0), rtu(0, Table::kHolding, 1), "257 bytes is too long"},
  };
  Bytes length_lies = tcp_answer(1, 1, {3, 2, 0, 1});
  length_lies[5] = 9;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::uint16_t regs[8];
    std::uint8_t bits[8];
    const auto a = parse_read_answer(c.adu, c.expect, regs, bits);
    EXPECT_EQ(a.kind, ReadAnswer::Kind::kMalformed);
    EXPECT_NE(a.error.find(c.error), std::string::npos) << a.error;
  }
  std::uint16_t reg = 0;
  const auto a = parse_read_answer(length_lies, tcp(1, 1, Table::kHolding, 1), &reg, nullptr);
  EXPECT_EQ(a.error, "header length 9 does not match the 5 bytes that follow it");
}

TEST(ModbusAdu, EveryTruncationOfAGoodAnswerIsRejected) {
  const Bytes good = tcp_answer(3, 1, {3, 6, 0, 1, 0, 2, 0, 3});
  const Bytes good_rtu = rtu_answer(1, {3, 6, 0, 1, 0, 2, 0, 3});
  std::uint16_t regs[3];
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parse_read_answer(std::span(good.data(), n), tcp(3, 1, Table::kHolding, 3), regs, nullptr).ok()) << n;
  }
  for (std::size_t n = 0; n < good_rtu.size(); ++n) {
    EXPECT_FALSE(parse_read_answer(std::span(good_rtu.data(), n), {Framing::kRtu, 0, 1, Table::kHolding, 3}, regs,
                                   nullptr).ok())
        << n;
  }
}

TEST(ModbusAdu, RandomBytesNeverReadOutOfBounds) {
  std::mt19937 rng(42);
  std::uint16_t regs[125];
  std::uint8_t bits[2000];
  for (int i = 0; i < 20000; ++i) {
    Bytes adu(rng() % 270);
    for (auto& b : adu) b = static_cast<std::uint8_t>(rng());
    const auto count = static_cast<std::uint16_t>(1 + rng() % 125);
    const ReadExpectation e{rng() % 2 ? Framing::kTcp : Framing::kRtu, static_cast<std::uint16_t>(rng()),
                            static_cast<std::uint8_t>(rng()), static_cast<Table>(rng() % 4), count};
    (void)parse_read_answer(adu, e, regs, bits);  // ASan is the oracle
  }
}

}  // namespace
}  // namespace uc::protocols::modbus
