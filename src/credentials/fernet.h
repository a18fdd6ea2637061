// Fernet (spec version 0x80), interoperable with Python's cryptography.fernet.
//
//   key   = base64url(signing key (16) || encryption key (16)), 44 characters
//   token = base64url(0x80 || timestamp (8, big-endian Unix seconds) || IV (16)
//                     || AES-128-CBC(encryption key, IV, PKCS#7(plaintext))
//                     || HMAC-SHA256(signing key, everything before it) (32))
//
// Verification order (spec, and cryptography's): decode, length, version,
// TTL and clock skew (only when a TTL is given), HMAC compared in constant time
// (CRYPTO_memcmp), ciphertext length, decrypt, unpad. Every failure is a
// TokenError; no failure says more than its kind (no oracle beyond the spec's).
//
// Time comes from the injected Clock. Thread-safe: a Fernet is immutable.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace uc::credentials {

inline constexpr std::size_t kFernetKeyBytes = 32;
inline constexpr std::size_t kFernetIvBytes = 16;
// Tokens longer than this are refused before decoding (a store entry is at most
// a few tens of KiB).
inline constexpr std::size_t kMaxTokenChars = 4U * 1024U * 1024U;
// Python's cryptography rejects timestamps more than this far in the future.
inline constexpr std::int64_t kMaxClockSkewS = 60;

// 32 raw key bytes; wiped when destroyed.
class FernetKey {
 public:
  FernetKey() = default;
  explicit FernetKey(const std::array<unsigned char, kFernetKeyBytes>& raw) : raw_(raw) {}
  FernetKey(const FernetKey&) = default;
  FernetKey& operator=(const FernetKey&) = default;
  ~FernetKey();

  // A fresh random key (RAND_bytes).
  static Result<FernetKey> generate();
  // From the 44-character URL-safe base64 form (surrounding whitespace is not
  // accepted here; callers trim). INVALID_ARGUMENT without quoting the input.
  static Result<FernetKey> from_base64(std::string_view text);
  std::string to_base64() const;

  const unsigned char* signing_key() const { return raw_.data(); }
  const unsigned char* encryption_key() const { return raw_.data() + 16; }
  const std::array<unsigned char, kFernetKeyBytes>& raw() const { return raw_; }
  bool operator==(const FernetKey& other) const;

 private:
  std::array<unsigned char, kFernetKeyBytes> raw_{};
};

enum class TokenError {
  kNone,
  kTooLarge,         // longer than kMaxTokenChars
  kInvalidBase64,    // not URL-safe base64 with padding
  kTooShort,         // fewer bytes than version + timestamp + IV + HMAC
  kBadVersion,       // first byte is not 0x80
  kExpired,          // timestamp + ttl < now
  kFromTheFuture,    // timestamp > now + 60 s (unacceptable clock skew)
  kBadSignature,     // HMAC mismatch: wrong key or tampered token
  kBadLength,        // ciphertext empty or not a multiple of the AES block size
  kBadPadding,       // PKCS#7 padding wrong after decryption
  kCryptoFailure,    // OpenSSL reported an error
};

// "incorrect MAC (wrong key or tampered token)", ...
const char* describe(TokenError error);

class Fernet {
 public:
  explicit Fernet(const FernetKey& key, const Clock& clock = SystemClock::instance()) : key_(key), clock_(&clock) {}

  // A token for plaintext with the clock's current time and a random IV.
  Result<std::string> encrypt(std::string_view plaintext) const;
  // Deterministic: the given timestamp and IV (the spec's generate vectors).
  Result<std::string> encrypt_at(std::string_view plaintext, std::uint64_t timestamp_s,
                                 const std::array<unsigned char, kFernetIvBytes>& iv) const;

  // Checks and decrypts token. With ttl_s, tokens older than ttl_s seconds or
  // more than kMaxClockSkewS in the future are refused; without it, age is not
  // checked (store entries do not expire).
  TokenError decrypt(std::string_view token, std::optional<std::int64_t> ttl_s, std::string& plaintext) const;
  // The same as a Result: INVALID_ARGUMENT (malformed), UNAUTHENTICATED (bad
  // signature) or FAILED_PRECONDITION (expired, clock skew); message "invalid
  // token: <describe(error)>".
  Result<std::string> decrypt(std::string_view token, std::optional<std::int64_t> ttl_s = std::nullopt) const;

 private:
  FernetKey key_;
  const Clock* clock_;
};

}  // namespace uc::credentials
