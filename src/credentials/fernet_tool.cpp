// Test helper for the interop test with Python's cryptography (not installed):
//   uc_fernet_tool derive PASSWORD SALT_B64URL ITERATIONS   -> the Fernet key (base64url)
//   uc_fernet_tool encrypt KEY_B64URL  < plaintext          -> a token
//   uc_fernet_tool decrypt KEY_B64URL TOKEN [TTL_S]         -> the plaintext, or exit 1 with the reason
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "credentials/base64url.h"
#include "credentials/fernet.h"
#include "credentials/kdf.h"

namespace {

int usage() {
  std::cerr << "usage: uc_fernet_tool derive PASSWORD SALT ITERATIONS | encrypt KEY | decrypt KEY TOKEN [TTL]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace uc::credentials;
  if (argc < 3) return usage();
  const std::string cmd = argv[1];
  if (cmd == "derive" && argc == 5) {
    auto salt = base64url_decode(argv[3]);
    if (!salt) return usage();
    auto key = derive_key(argv[2], *salt, static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10)));
    if (!key) {
      std::cerr << key.status().to_string() << '\n';
      return 1;
    }
    std::cout << key->to_base64() << '\n';
    return 0;
  }
  auto key = FernetKey::from_base64(argv[2]);
  if (!key) {
    std::cerr << key.status().to_string() << '\n';
    return 2;
  }
  Fernet fernet(*key);
  if (cmd == "encrypt" && argc == 3) {
    std::string text;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, stdin)) > 0;) text.append(buf, n);
    auto token = fernet.encrypt(text);
    if (!token) return 1;
    std::cout << *token << '\n';
    return 0;
  }
  if (cmd == "decrypt" && (argc == 4 || argc == 5)) {
    std::optional<std::int64_t> ttl;
    if (argc == 5) ttl = std::strtoll(argv[4], nullptr, 10);
    auto plain = fernet.decrypt(argv[3], ttl);
    if (!plain) {
      std::cerr << plain.status().to_string() << '\n';
      return 1;
    }
    std::cout << *plain;
    return 0;
  }
  return usage();
}
