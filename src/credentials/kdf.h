// Key derivation: PBKDF2-HMAC-SHA256 (OpenSSL PKCS5_PBKDF2_HMAC), the recipe of
// Python cryptography's "Using passwords with Fernet": 32 bytes from the
// password and a random 16-byte salt, 480,000 iterations by default.
// Deliberately slow (a few hundred ms); call it off hot threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "credentials/fernet.h"

namespace uc::credentials {

inline constexpr std::uint32_t kDefaultIterations = 480'000;
// Accepted iteration counts, for new stores and when reading one (a store file
// cannot make us spin for hours, nor be weakened to a trivial count).
inline constexpr std::uint32_t kMinIterations = 1'000;
inline constexpr std::uint32_t kMaxIterations = 10'000'000;
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kMaxPasswordBytes = 4096;

// dk_len bytes of PBKDF2-HMAC-SHA256; any iteration count >= 1 (test vectors).
Result<std::string> pbkdf2_hmac_sha256(std::string_view password, std::string_view salt, std::uint32_t iterations,
                                       std::size_t dk_len);

// The Fernet key for password and salt; iterations in [kMinIterations, kMaxIterations].
Result<FernetKey> derive_key(std::string_view password, std::string_view salt, std::uint32_t iterations);

// n random bytes (RAND_bytes).
Result<std::string> random_bytes(std::size_t n);

}  // namespace uc::credentials
