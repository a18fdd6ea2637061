#include "credentials/fernet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <limits>
#include <memory>

#include "credentials/base64url.h"

namespace uc::credentials {
namespace {

constexpr unsigned char kVersion = 0x80;
constexpr std::size_t kHeaderBytes = 1 + 8 + kFernetIvBytes;  // version, timestamp, IV
constexpr std::size_t kMacBytes = 32;
constexpr std::size_t kBlock = 16;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

bool hmac_sha256(const unsigned char* key, std::string_view data, unsigned char (&out)[kMacBytes]) {
  unsigned int len = 0;
  if (data.size() > static_cast<std::size_t>(INT_MAX)) return false;
  return HMAC(EVP_sha256(), key, 16, bytes(data), data.size(), out, &len) != nullptr && len == kMacBytes;
}

// AES-128-CBC without OpenSSL's padding (the caller pads/unpads).
bool aes_cbc(bool encrypt, const unsigned char* key, const unsigned char* iv, std::string_view in, std::string& out) {
  if (in.size() % kBlock != 0 || in.size() > static_cast<std::size_t>(INT_MAX) - kBlock) return false;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, key, iv, encrypt ? 1 : 0) != 1) return false;
  if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return false;
  out.assign(in.size() + kBlock, '\0');
  int n = 0;
  int tail = 0;
  if (EVP_CipherUpdate(ctx.get(), bytes(out), &n, bytes(in), static_cast<int>(in.size())) != 1) return false;
  if (EVP_CipherFinal_ex(ctx.get(), bytes(out) + n, &tail) != 1) return false;
  out.resize(static_cast<std::size_t>(n + tail));
  return true;
}

void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>(v >> shift & 0xFF);
}

std::uint64_t get_be64(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
  return v;
}

}  // namespace

FernetKey::~FernetKey() { OPENSSL_cleanse(raw_.data(), raw_.size()); }

bool FernetKey::operator==(const FernetKey& other) const {
  return CRYPTO_memcmp(raw_.data(), other.raw_.data(), raw_.size()) == 0;
}

Result<FernetKey> FernetKey::generate() {
  std::array<unsigned char, kFernetKeyBytes> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return internal_error("RAND_bytes failed");
  FernetKey key(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

Result<FernetKey> FernetKey::from_base64(std::string_view text) {
  auto decoded = base64url_decode(text);
  if (!decoded) return invalid_argument("a Fernet key must be URL-safe base64 of 32 bytes: " + decoded.status().message());
  if (decoded->size() != kFernetKeyBytes) {
    const std::size_t n = decoded->size();
    OPENSSL_cleanse(decoded->data(), decoded->size());
    return invalid_argument("a Fernet key must be URL-safe base64 of 32 bytes, got " + std::to_string(n) + " bytes");
  }
  std::array<unsigned char, kFernetKeyBytes> raw{};
  std::copy(decoded->begin(), decoded->end(), raw.begin());
  OPENSSL_cleanse(decoded->data(), decoded->size());
  FernetKey key(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

std::string FernetKey::to_base64() const {
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(raw_.data()), raw_.size()));
}

const char* describe(TokenError error) {
  switch (error) {
    case TokenError::kNone: return "ok";
    case TokenError::kTooLarge: return "token too large";
    case TokenError::kInvalidBase64: return "not URL-safe base64";
    case TokenError::kTooShort: return "too short";
    case TokenError::kBadVersion: return "unknown version (first byte is not 0x80)";
    case TokenError::kExpired: return "expired (older than the TTL)";
    case TokenError::kFromTheFuture: return "timestamp too far in the future (unacceptable clock skew)";
    case TokenError::kBadSignature: return "incorrect MAC (wrong key or tampered token)";
    case TokenError::kBadLength: return "payload size not a multiple of the block size";
    case TokenError::kBadPadding: return "payload padding error";
    case TokenError::kCryptoFailure: return "OpenSSL failure";
  }
  return "unknown error";
}

Result<std::string> Fernet::encrypt(std::string_view plaintext) const {
  std::array<unsigned char, kFernetIvBytes> iv{};
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) return internal_error("RAND_bytes failed");
  const std::int64_t now_s = clock_->now_us() / 1'000'000;
  return encrypt_at(plaintext, now_s < 0 ? 0 : static_cast<std::uint64_t>(now_s), iv);
}

Result<std::string> Fernet::encrypt_at(std::string_view plaintext, std::uint64_t timestamp_s,
                                       const std::array<unsigned char, kFernetIvBytes>& iv) const {
  if (plaintext.size() > kMaxTokenChars / 2) return invalid_argument("plaintext too large for a Fernet token");
  // PKCS#7: 1..16 bytes, each the pad length.
  std::string padded(plaintext);
  const std::size_t pad = kBlock - plaintext.size() % kBlock;
  padded.append(pad, static_cast<char>(pad));
  std::string ciphertext;
  const bool ok = aes_cbc(true, key_.encryption_key(), iv.data(), padded, ciphertext);
  OPENSSL_cleanse(padded.data(), padded.size());
  if (!ok) return internal_error("AES-128-CBC encryption failed");

  std::string raw;
  raw.reserve(kHeaderBytes + ciphertext.size() + kMacBytes);
  raw += static_cast<char>(kVersion);
  put_be64(raw, timestamp_s);
  raw.append(reinterpret_cast<const char*>(iv.data()), iv.size());
  raw += ciphertext;
  unsigned char mac[kMacBytes];
  if (!hmac_sha256(key_.signing_key(), raw, mac)) return internal_error("HMAC-SHA256 failed");
  raw.append(reinterpret_cast<const char*>(mac), kMacBytes);
  return base64url_encode(raw);
}

TokenError Fernet::decrypt(std::string_view token, std::optional<std::int64_t> ttl_s, std::string& plaintext) const {
  plaintext.clear();
  if (token.size() > kMaxTokenChars) return TokenError::kTooLarge;
  auto decoded = base64url_decode(token);
  if (!decoded) return TokenError::kInvalidBase64;
  const std::string& raw = *decoded;
  if (raw.size() < kHeaderBytes + kMacBytes) return TokenError::kTooShort;
  if (static_cast<unsigned char>(raw[0]) != kVersion) return TokenError::kBadVersion;

  if (ttl_s) {
    const std::int64_t now_s = clock_->now_us() / 1'000'000;
    const std::uint64_t ts = get_be64(std::string_view(raw).substr(1, 8));
    // Timestamps beyond 2^62 are "the future" whatever the clock says; below
    // that, the sums cannot overflow (ttl is clamped to 2^40 s).
    constexpr std::uint64_t kFar = std::uint64_t{1} << 62;
    const std::int64_t ttl = std::min<std::int64_t>(std::max<std::int64_t>(*ttl_s, 0), std::int64_t{1} << 40);
    if (ts < kFar && static_cast<std::int64_t>(ts) + ttl < now_s) return TokenError::kExpired;
    if (ts >= kFar || static_cast<std::int64_t>(ts) > now_s + kMaxClockSkewS) return TokenError::kFromTheFuture;
  }

  const std::string_view signed_part = std::string_view(raw).substr(0, raw.size() - kMacBytes);
  unsigned char mac[kMacBytes];
  if (!hmac_sha256(key_.signing_key(), signed_part, mac)) return TokenError::kCryptoFailure;
  if (CRYPTO_memcmp(mac, raw.data() + signed_part.size(), kMacBytes) != 0) return TokenError::kBadSignature;

  const std::string_view ciphertext = signed_part.substr(kHeaderBytes);
  if (ciphertext.empty() || ciphertext.size() % kBlock != 0) return TokenError::kBadLength;
  std::string padded;
  if (!aes_cbc(false, key_.encryption_key(), bytes(raw) + 9, ciphertext, padded)) return TokenError::kCryptoFailure;
  const auto pad = static_cast<unsigned char>(padded.back());
  bool good = pad >= 1 && pad <= kBlock;
  for (std::size_t i = 0; good && i < pad; ++i) good = static_cast<unsigned char>(padded[padded.size() - 1 - i]) == pad;
  if (!good) {
    OPENSSL_cleanse(padded.data(), padded.size());
    return TokenError::kBadPadding;
  }
  plaintext.assign(padded, 0, padded.size() - pad);
  OPENSSL_cleanse(padded.data(), padded.size());
  return TokenError::kNone;
}

Result<std::string> Fernet::decrypt(std::string_view token, std::optional<std::int64_t> ttl_s) const {
  std::string plaintext;
  const TokenError e = decrypt(token, ttl_s, plaintext);
  if (e == TokenError::kNone) return plaintext;
  const std::string message = std::string("invalid token: ") + describe(e);
  switch (e) {
    case TokenError::kBadSignature: return Status(StatusCode::kUnauthenticated, message);
    case TokenError::kExpired:
    case TokenError::kFromTheFuture: return Status(StatusCode::kFailedPrecondition, message);
    case TokenError::kCryptoFailure: return internal_error(message);
    default: return invalid_argument(message);
  }
}

}  // namespace uc::credentials
