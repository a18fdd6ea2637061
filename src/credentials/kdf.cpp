#include "credentials/kdf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>

namespace uc::credentials {

Result<std::string> pbkdf2_hmac_sha256(std::string_view password, std::string_view salt, std::uint32_t iterations,
                                       std::size_t dk_len) {
  if (iterations < 1 || iterations > static_cast<std::uint32_t>(INT_MAX)) {
    return invalid_argument("PBKDF2 iteration count out of range");
  }
  if (password.size() > kMaxPasswordBytes) {
    return invalid_argument("password longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (salt.size() > 1024 || dk_len < 1 || dk_len > 1024) return invalid_argument("PBKDF2 salt or key length out of range");
  std::string out(dk_len, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), EVP_sha256(), static_cast<int>(dk_len),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    return internal_error("PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

Result<FernetKey> derive_key(std::string_view password, std::string_view salt, std::uint32_t iterations) {
  if (iterations < kMinIterations || iterations > kMaxIterations) {
    return invalid_argument("PBKDF2 iterations must be between " + std::to_string(kMinIterations) + " and " +
                            std::to_string(kMaxIterations) + ", got " + std::to_string(iterations));
  }
  if (password.empty()) return invalid_argument("the master password is empty");
  auto dk = pbkdf2_hmac_sha256(password, salt, iterations, kFernetKeyBytes);
  if (!dk) return dk.status();
  std::array<unsigned char, kFernetKeyBytes> raw{};
  std::copy(dk->begin(), dk->end(), raw.begin());
  OPENSSL_cleanse(dk->data(), dk->size());
  FernetKey key(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

Result<std::string> random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return internal_error("RAND_bytes failed");
  }
  return out;
}

}  // namespace uc::credentials
