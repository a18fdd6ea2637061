// PBKDF2-HMAC-SHA256 against RFC 7914 §11 and known vectors (the last one is
// the 480,000-iteration recipe of Python cryptography's Fernet documentation).
#include "credentials/kdf.h"

#include <gtest/gtest.h>

namespace uc::credentials {
namespace {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(Pbkdf2, Rfc7914Vectors) {
  EXPECT_EQ(hex(pbkdf2_hmac_sha256("passwd", "salt", 1, 64).value()),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b84"
            "5b1e30bd509112041d3a19783");
  EXPECT_EQ(hex(pbkdf2_hmac_sha256("Password", "NaCl", 80000, 64).value()),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bd"
            "ebba1d078478f62b397f33c8d");
}

TEST(Pbkdf2, KnownSha256Vectors) {
  EXPECT_EQ(hex(pbkdf2_hmac_sha256("password", "salt", 1, 32).value()),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
  EXPECT_EQ(hex(pbkdf2_hmac_sha256("password", "salt", 4096, 32).value()),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
}

TEST(Pbkdf2, FernetKeyAtDefaultIterations) {
  auto key = derive_key("password", "salt", kDefaultIterations);
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(hex(std::string_view(reinterpret_cast<const char*>(key->raw().data()), key->raw().size())),
            "7bd643287e51eb6fa052881e706a246fab9e2c7467a7f75207dd0ec99b099c7b");
  EXPECT_EQ(key->to_base64(), "e9ZDKH5R62-gUogecGokb6ueLHRnp_dSB90OyZsJnHs=");
}

TEST(Pbkdf2, RefusesOutOfRangeInputs) {
  EXPECT_EQ(derive_key("pw", "salt", kMinIterations - 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(derive_key("pw", "salt", kMaxIterations + 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(derive_key("", "salt", kMinIterations).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(derive_key(std::string(kMaxPasswordBytes + 1, 'p'), "salt", kMinIterations).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(pbkdf2_hmac_sha256("pw", "salt", 0, 32).is_ok());
  EXPECT_FALSE(pbkdf2_hmac_sha256("pw", "salt", 1, 0).is_ok());
}

TEST(RandomBytes, LengthAndVariety) {
  EXPECT_EQ(random_bytes(16)->size(), 16U);
  EXPECT_NE(random_bytes(16).value(), random_bytes(16).value());
}

}  // namespace
}  // namespace uc::credentials
