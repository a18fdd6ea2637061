#include "buffer/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace uc::buffer {
namespace {

TEST(Crc32c, StandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c_portable("123456789", 9), 0xE3069283u);
}

// RFC 3720 (iSCSI) appendix B.4 test patterns.
TEST(Crc32c, Rfc3720Vectors) {
  const std::string zeros(32, '\0');
  const std::string ones(32, '\xff');
  std::string inc(32, '\0');
  std::string dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[static_cast<std::size_t>(i)] = static_cast<char>(i);
    dec[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(crc32c(dec), 0x113FDB5Cu);
  EXPECT_EQ(crc32c_portable(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c_portable(inc.data(), 32), 0x46DD794Eu);
}

TEST(Crc32c, EmptyIsZero) { EXPECT_EQ(crc32c("", 0), 0u); }

TEST(Crc32c, ExtendingEqualsWhole) {
  const std::string a = "hello, ";
  const std::string b = "spool world";
  EXPECT_EQ(crc32c(b, crc32c(a)), crc32c(a + b));
}

TEST(Crc32c, HardwareAndTableAgreeOnEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<char> buf(4096 + 16);
  for (auto& c : buf) c = static_cast<char>(rng());
  for (std::size_t off = 0; off < 16; ++off) {
    for (std::size_t len : {0ul, 1ul, 7ul, 8ul, 9ul, 15ul, 63ul, 64ul, 1000ul, 4096ul}) {
      ASSERT_EQ(crc32c(buf.data() + off, len, 0x1234u), crc32c_portable(buf.data() + off, len, 0x1234u))
          << "off " << off << " len " << len << " hw " << crc32c_hardware();
    }
  }
}

}  // namespace
}  // namespace uc::buffer
