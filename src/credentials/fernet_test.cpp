// Fernet against the official vectors of the spec (github.com/fernet/spec:
// generate.json, verify.json, invalid.json), embedded here verbatim, plus round
// trips, tampering and limits.
#include "credentials/fernet.h"

#include <gtest/gtest.h>

#include "credentials/base64url.h"

namespace uc::credentials {
namespace {

constexpr const char* kSecret = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
// 1985-10-26T01:20:00-07:00 and friends, in Unix seconds.
constexpr std::int64_t k012000 = 499162800;
constexpr std::int64_t k012001 = 499162801;
constexpr std::int64_t k012131 = 499162891;

constexpr std::int64_t us(std::int64_t s) { return s * 1'000'000; }

Fernet fernet_at(ManualClock& clock) { return Fernet(FernetKey::from_base64(kSecret).value(), clock); }

TEST(FernetVectors, Generate) {
  ManualClock clock(us(k012000));
  std::array<unsigned char, kFernetIvBytes> iv{};
  for (unsigned i = 0; i < iv.size(); ++i) iv[i] = static_cast<unsigned char>(i);
  auto token = fernet_at(clock).encrypt_at("hello", static_cast<std::uint64_t>(k012000), iv);
  ASSERT_TRUE(token.is_ok()) << token.status().to_string();
  EXPECT_EQ(*token,
            "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==");
}

TEST(FernetVectors, Verify) {
  ManualClock clock(us(k012001));
  auto plain = fernet_at(clock).decrypt(
      "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==", 60);
  ASSERT_TRUE(plain.is_ok()) << plain.status().to_string();
  EXPECT_EQ(*plain, "hello");
}

struct InvalidVector {
  const char* desc;
  const char* token;
  std::int64_t now;
  TokenError expected;
};

const InvalidVector kInvalid[] = {
    {"incorrect mac",
     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==", k012001,
     TokenError::kBadSignature},
    {"too short", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==", k012001, TokenError::kTooShort},
    {"invalid base64",
     "%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==", k012001,
     TokenError::kInvalidBase64},
    {"payload size not multiple of block size",
     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm", k012001,
     TokenError::kBadLength},
    {"payload padding error",
     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==", k012001,
     TokenError::kBadPadding},
    {"far-future TS (unacceptable clock skew)",
     "gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==", k012001,
     TokenError::kFromTheFuture},
    {"expired TTL",
     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==", k012131,
     TokenError::kExpired},
    {"incorrect IV (causes padding error)",
     "gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==", k012001,
     TokenError::kBadPadding},
};

TEST(FernetVectors, EveryInvalidTokenFailsForItsReason) {
  for (const auto& v : kInvalid) {
    ManualClock clock(us(v.now));
    std::string plain = "untouched";
    EXPECT_EQ(fernet_at(clock).decrypt(v.token, 60, plain), v.expected) << v.desc;
    EXPECT_TRUE(plain.empty()) << v.desc;
    auto r = fernet_at(clock).decrypt(v.token, 60);
    EXPECT_FALSE(r.is_ok()) << v.desc;
    EXPECT_EQ(r.status().message(), std::string("invalid token: ") + describe(v.expected)) << v.desc;
  }
}

TEST(FernetVectors, ExpiredTokenIsStillValidWithoutTtl) {
  // Store entries are decrypted without a TTL: age and skew are not checked.
  ManualClock clock(us(k012131));
  auto plain = fernet_at(clock).decrypt(kInvalid[6].token);
  ASSERT_TRUE(plain.is_ok()) << plain.status().to_string();
  ManualClock early(us(k012001));
  EXPECT_TRUE(fernet_at(early).decrypt(kInvalid[5].token).is_ok());
}

TEST(FernetVectors, SkewBoundaryIsSixtySeconds) {
  // The far-future vector's timestamp is 499198801.
  ManualClock at_limit(us(499198801 - 60));
  EXPECT_TRUE(fernet_at(at_limit).decrypt(kInvalid[5].token, 60).is_ok());
  ManualClock past_limit(us(499198801 - 61));
  std::string plain;
  EXPECT_EQ(fernet_at(past_limit).decrypt(kInvalid[5].token, 60, plain), TokenError::kFromTheFuture);
}

TEST(Fernet, RoundTripWithClockTime) {
  ManualClock clock(us(1'700'000'000));
  Fernet f(FernetKey::generate().value(), clock);
  for (std::string text : {std::string(), std::string("x"), std::string(15, 'a'), std::string(16, 'b'),
                           std::string(17, 'c'), std::string("\0\xff binary", 9)}) {
    auto token = f.encrypt(text);
    ASSERT_TRUE(token.is_ok());
    auto back = f.decrypt(*token, 10);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, text);
  }
  // Timestamp is the clock's, so a TTL counts from it.
  auto token = f.encrypt("t").value();
  clock.advance_us(us(11));
  EXPECT_EQ(f.decrypt(token, 10).status().code(), StatusCode::kFailedPrecondition);
}

TEST(Fernet, RandomIvMakesEveryTokenDifferent) {
  ManualClock clock;
  Fernet f(FernetKey::generate().value(), clock);
  EXPECT_NE(f.encrypt("same").value(), f.encrypt("same").value());
}

TEST(Fernet, WrongKeyIsBadSignature) {
  ManualClock clock;
  Fernet a(FernetKey::generate().value(), clock);
  Fernet b(FernetKey::generate().value(), clock);
  std::string plain;
  EXPECT_EQ(b.decrypt(a.encrypt("secret").value(), std::nullopt, plain), TokenError::kBadSignature);
  EXPECT_EQ(b.decrypt(a.encrypt("secret").value()).status().code(), StatusCode::kUnauthenticated);
}

TEST(Fernet, EveryFlippedBitIsRefused) {
  ManualClock clock;
  Fernet f(FernetKey::generate().value(), clock);
  const std::string raw = base64url_decode(f.encrypt("the value").value()).value();
  for (std::size_t i = 0; i < raw.size() * 8; ++i) {
    std::string bad = raw;
    bad[i / 8] = static_cast<char>(bad[i / 8] ^ (1 << (i % 8)));
    std::string plain;
    const TokenError e = f.decrypt(base64url_encode(bad), std::nullopt, plain);
    EXPECT_NE(e, TokenError::kNone) << "bit " << i;
    EXPECT_TRUE(plain.empty());
  }
}

TEST(Fernet, MalformedInputs) {
  ManualClock clock;
  Fernet f(FernetKey::generate().value(), clock);
  std::string plain;
  EXPECT_EQ(f.decrypt("", std::nullopt, plain), TokenError::kTooShort);
  EXPECT_EQ(f.decrypt("gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA",
                      std::nullopt, plain),
            TokenError::kInvalidBase64);  // padding removed
  EXPECT_EQ(f.decrypt("gAAA+AAd", std::nullopt, plain), TokenError::kInvalidBase64);  // standard alphabet
  std::string version_one = base64url_decode(f.encrypt("x").value()).value();
  version_one[0] = 0x01;
  EXPECT_EQ(f.decrypt(base64url_encode(version_one), std::nullopt, plain), TokenError::kBadVersion);
  EXPECT_EQ(f.decrypt(std::string(kMaxTokenChars + 4, 'A'), std::nullopt, plain), TokenError::kTooLarge);
  EXPECT_FALSE(f.encrypt(std::string(kMaxTokenChars, 'x')).is_ok());
}

TEST(FernetKey, Base64Forms) {
  auto key = FernetKey::from_base64(kSecret);
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(key->to_base64(), kSecret);
  EXPECT_EQ(key->raw()[0], 0x73);   // signing key 730ff4c7...
  EXPECT_EQ(key->raw()[16], 0xf7);  // encryption key f790b0a2...
  EXPECT_FALSE(FernetKey::from_base64("c2hvcnQ=").is_ok());
  EXPECT_FALSE(FernetKey::from_base64("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4").is_ok());
  EXPECT_FALSE(FernetKey::from_base64("cw/0x689RpI+jtRR7oE8h/eQsKImvJapLeSbXpwF4e4=").is_ok());
  EXPECT_EQ(FernetKey::generate()->to_base64().size(), 44U);
}

TEST(Base64Url, EncodeDecode) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg==");
  EXPECT_EQ(base64url_encode("fo"), "Zm8=");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8=");
  EXPECT_EQ(base64url_decode("-_8=").value(), "\xfb\xff");
  EXPECT_EQ(base64url_decode("Zm9vYg==").value(), "foob");
  EXPECT_FALSE(base64url_decode("Zm9vYg=").is_ok());
  EXPECT_FALSE(base64url_decode("Zm=vYg==").is_ok());
  EXPECT_FALSE(base64url_decode("Zm9v===").is_ok());
  EXPECT_FALSE(base64url_decode("Zm9v\n").is_ok());
}

}  // namespace
}  // namespace uc::credentials
