// The spool's on-disk layout (see the format description in spool.h): constants and the
// encoders/decoders of segment headers, frame headers and ledger slots. Internal to the
// buffer module; tests use it to build and damage files byte by byte.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "buffer/crc32c.h"

namespace uc::buffer::format {

inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::uint64_t kSegHeader = 32;
inline constexpr std::uint64_t kFrameHeader = 16;
inline constexpr std::uint64_t kSlotSize = 64;
inline constexpr std::uint64_t kSlotOffset[2] = {0, 512};
inline constexpr std::size_t kLedgerFileSize = 1024;
inline constexpr char kSegMagic[8] = {'U', 'C', 'S', 'P', 'O', 'O', 'L', '\0'};
inline constexpr char kLedgerMagic[8] = {'U', 'C', 'L', 'E', 'D', 'G', 'R', '\0'};
inline constexpr const char* kLockName = "LOCK";
inline constexpr const char* kLedgerName = "ledger";

inline void put32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}
inline void put64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}
inline std::uint32_t get32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
inline std::uint64_t get64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

enum class SlotParse { kOk, kInvalid, kUnknownVersion };

// Frame header for `payload` at p[0..16); the CRC covers the seq bytes and the payload.
inline void encode_frame_header(char* p, std::uint64_t seq, std::string_view payload) {
  put32(p, static_cast<std::uint32_t>(payload.size()));
  put64(p + 8, seq);
  put32(p + 4, crc32c(payload, crc32c(p + 8, 8)));
}

inline void encode_segment_header(char* p, std::uint64_t first_seq) {
  std::memcpy(p, kSegMagic, 8);
  put32(p + 8, kFormatVersion);
  put32(p + 12, static_cast<std::uint32_t>(kSegHeader));
  put64(p + 16, first_seq);
  put32(p + 24, 0);
  put32(p + 28, crc32c(p, 28));
}

inline SlotParse decode_segment_header(const char* p, std::uint64_t& first_seq, std::uint32_t& version) {
  if (std::memcmp(p, kSegMagic, 8) != 0 || crc32c(p, 28) != get32(p + 28)) return SlotParse::kInvalid;
  version = get32(p + 8);
  first_seq = get64(p + 16);
  if (version != kFormatVersion || get32(p + 12) != kSegHeader) return SlotParse::kUnknownVersion;
  return SlotParse::kOk;
}

struct LedgerSlot {
  std::uint32_t version = 0;
  std::uint64_t generation = 0;
  std::uint64_t acked = 0;
  std::uint64_t read = 0;
  std::uint64_t durable = 0;
  std::uint64_t next = 0;
};

inline void encode_ledger_slot(char* p, std::uint64_t generation, std::uint64_t acked, std::uint64_t read,
                               std::uint64_t durable, std::uint64_t next) {
  std::memcpy(p, kLedgerMagic, 8);
  put32(p + 8, kFormatVersion);
  put32(p + 12, 0);
  put64(p + 16, generation);
  put64(p + 24, acked);
  put64(p + 32, read);
  put64(p + 40, durable);
  put64(p + 48, next);
  put32(p + 56, 0);
  put32(p + 60, crc32c(p, 60));
}

inline SlotParse decode_ledger_slot(const char* p, LedgerSlot& s) {
  if (std::memcmp(p, kLedgerMagic, 8) != 0 || crc32c(p, 60) != get32(p + 60)) return SlotParse::kInvalid;
  s.version = get32(p + 8);
  if (s.version != kFormatVersion) return SlotParse::kUnknownVersion;
  s.generation = get64(p + 16);
  s.acked = get64(p + 24);
  s.read = get64(p + 32);
  s.durable = get64(p + 40);
  s.next = get64(p + 48);
  return SlotParse::kOk;
}

// "seg-00000000000000000042.log" -> 42.
inline std::optional<std::uint64_t> parse_segment_name(const std::string& name) {
  if (name.size() != 4 + 20 + 4 || name.compare(0, 4, "seg-") != 0 || name.compare(24, 4, ".log") != 0) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (std::size_t i = 4; i < 24; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace uc::buffer::format
