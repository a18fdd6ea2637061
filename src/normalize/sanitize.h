// Path-segment sanitizing and the stable hashes used to keep segments and paths distinct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace uc::normalize {

// Longest segment sanitize_segment() returns, in bytes.
inline constexpr std::size_t kMaxSegmentBytes = 64;

// Turns arbitrary text into one tag-path segment:
//  - ASCII letters are lowercased; a-z, 0-9, '_' and '-' are kept;
//  - Latin-1 letters written in UTF-8 are folded to ASCII ("Température" → "temperature",
//    "Straße" → "strasse"); every other byte ('/', '.', ' ', other UTF-8) becomes '_';
//  - runs of '_' collapse to one, and leading/trailing '_' are trimmed;
//  - a result longer than kMaxSegmentBytes is cut to 55 bytes plus '_' and 8 hex digits of
//    stable_hash32() of the full sanitized text, so distinct long names stay distinct;
//  - an empty result becomes "unknown".
// The function is pure and idempotent: sanitize_segment(sanitize_segment(x)) == sanitize_segment(x).
std::string sanitize_segment(std::string_view raw);

// 64-bit FNV-1a. Stable across platforms and releases: paths depend on it.
std::uint64_t fnv1a64(std::string_view data);

// The 64-bit FNV-1a hash folded to 32 bits (high half XOR low half).
std::uint32_t stable_hash32(std::string_view data);

// Eight lowercase hex digits of stable_hash32(data).
std::string hash_suffix(std::string_view data);

}  // namespace uc::normalize
