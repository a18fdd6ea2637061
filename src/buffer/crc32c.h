// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every spool
// record. Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run
// time) and a slicing-by-8 table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace uc::buffer {

// Extends `crc` (the finished CRC of the bytes before, 0 to start) over `data`:
// crc32c(b, crc32c(a)) == crc32c(a + b). crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);
inline std::uint32_t crc32c(std::string_view s, std::uint32_t crc = 0) { return crc32c(s.data(), s.size(), crc); }

// The portable table implementation, exposed so tests can compare it with the
// hardware path.
std::uint32_t crc32c_portable(const void* data, std::size_t size, std::uint32_t crc = 0);
// True when crc32c() uses the SSE4.2 instruction on this machine.
bool crc32c_hardware();

}  // namespace uc::buffer
