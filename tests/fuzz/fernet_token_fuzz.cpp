// Fuzz target: Fernet token parsing and verification (the credential store's values).
// With a fixed key, random tokens must be rejected with a reason and never crash; the
// first input byte optionally turns on the TTL check.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "credentials/fernet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const uc::credentials::FernetKey key = [] {
    std::array<unsigned char, uc::credentials::kFernetKeyBytes> raw{};
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<unsigned char>(i * 7 + 1);
    return uc::credentials::FernetKey(raw);
  }();
  if (size == 0) return 0;
  const uc::credentials::Fernet fernet(key);
  const std::optional<std::int64_t> ttl = (data[0] & 1U) != 0 ? std::optional<std::int64_t>(60) : std::nullopt;
  std::string plain;
  (void)fernet.decrypt(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), ttl, plain);
  return 0;
}
