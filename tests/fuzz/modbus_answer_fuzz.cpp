// Fuzz target: a Modbus read answer (TCP or RTU ADU) checked against a request.
// Input: byte 0 picks framing (bit 0), table (bits 1-2) and whether the expected ids are
// taken from the answer itself (bit 3, so the fuzzer reaches the checks past them);
// byte 1 is the count (1..125 registers or 1..2000 bits via byte 2); the rest is the ADU.
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocols/modbus/adu.h"

using namespace uc::protocols::modbus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t mode = data[0];
  ReadExpectation e;
  e.framing = (mode & 1U) != 0 ? Framing::kRtu : Framing::kTcp;
  e.table = static_cast<Table>((mode >> 1U) & 3U);
  e.count = is_bit_table(e.table) ? static_cast<std::uint16_t>(1 + (data[1] | (data[2] << 8U)) % kMaxReadBits)
                                  : static_cast<std::uint16_t>(1 + data[1] % kMaxReadRegisters);
  const std::span<const std::uint8_t> adu(data + 3, size - 3);
  if ((mode & 8U) != 0 && adu.size() >= kTcpHeaderSize) {
    e.tid = static_cast<std::uint16_t>((adu[0] << 8U) | adu[1]);
    e.unit = e.framing == Framing::kTcp ? adu[6] : adu[0];
  } else if (!adu.empty()) {
    e.unit = adu[0];
  }
  static std::uint16_t regs[kMaxReadRegisters];
  static std::uint8_t bits[kMaxReadBits];
  const ReadAnswer a = parse_read_answer(adu, e, regs, bits);
  if (a.kind == ReadAnswer::Kind::kMalformed && a.error.empty()) __builtin_trap();  // every rejection says why
  return 0;
}
