#include "normalize/sanitize.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace uc::normalize {
namespace {

struct SanitizeCase {
  std::string raw;
  std::string want;
};

class SanitizeTable : public ::testing::TestWithParam<SanitizeCase> {};

TEST_P(SanitizeTable, Sanitizes) {
  const auto& c = GetParam();
  EXPECT_EQ(sanitize_segment(c.raw), c.want) << "raw: \"" << c.raw << "\"";
  // Idempotent.
  EXPECT_EQ(sanitize_segment(sanitize_segment(c.raw)), sanitize_segment(c.raw));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SanitizeTable,
    ::testing::Values(
        SanitizeCase{"", "unknown"},
        SanitizeCase{"plant1", "plant1"},
        SanitizeCase{"Plant1", "plant1"},
        SanitizeCase{"UPPER_CASE", "upper_case"},
        SanitizeCase{"Température", "temperature"},
        SanitizeCase{"Straße", "strasse"},
        SanitizeCase{"Ærø Øst", "aero_ost"},
        SanitizeCase{"Größe×Höhe", "grosse_hohe"},
        SanitizeCase{"温度", "unknown"},
        SanitizeCase{"温度1", "1"},
        SanitizeCase{"tank°C", "tank_c"},
        SanitizeCase{"a/b/c", "a_b_c"},
        SanitizeCase{"Line1.Mixer.Speed", "line1_mixer_speed"},
        SanitizeCase{"mixer speed", "mixer_speed"},
        SanitizeCase{"  padded  ", "padded"},
        SanitizeCase{"__a__b__", "a_b"},
        SanitizeCase{"a___b", "a_b"},
        SanitizeCase{"a . / b", "a_b"},
        SanitizeCase{"!!!", "unknown"},
        SanitizeCase{"/./#;:", "unknown"},
        SanitizeCase{"___", "unknown"},
        SanitizeCase{"-", "-"},
        SanitizeCase{"kebab-case-name", "kebab-case-name"},
        SanitizeCase{"ns=2;s=Line1.Mixer.Speed", "ns_2_s_line1_mixer_speed"},
        SanitizeCase{"#metric", "metric"},
        SanitizeCase{"tab\there", "tab_here"},
        SanitizeCase{std::string("nul\0byte", 8), "nul_byte"},
        SanitizeCase{"(leading) and [trailing]", "leading_and_trailing"},
        SanitizeCase{"12345", "12345"},
        SanitizeCase{"%RH", "rh"},
        SanitizeCase{"\xC3", "unknown"},          // truncated UTF-8
        SanitizeCase{"a\xC3(b", "a_b"},           // lead byte without continuation
        SanitizeCase{"\xFF\xFEx", "x"},           // invalid bytes
        SanitizeCase{std::string(64, 'a'), std::string(64, 'a')}));

TEST(Sanitize, LongNamesAreTruncatedWithStableDistinctHash) {
  const std::string a = std::string(1000, 'x') + "a";
  const std::string b = std::string(1000, 'x') + "b";
  const std::string sa = sanitize_segment(a);
  const std::string sb = sanitize_segment(b);
  EXPECT_EQ(sa.size(), kMaxSegmentBytes);
  EXPECT_EQ(sb.size(), kMaxSegmentBytes);
  EXPECT_NE(sa, sb);
  EXPECT_EQ(sa, sanitize_segment(a));  // stable
  EXPECT_EQ(sa.substr(0, 55), std::string(55, 'x'));
  EXPECT_EQ(sa[55], '_');
  EXPECT_EQ(sa.substr(56), hash_suffix(std::string(1000, 'x') + "a"));
  EXPECT_EQ(sanitize_segment(sa), sa);
}

TEST(Sanitize, SixtyFiveBytesIsTruncated) {
  const std::string s = sanitize_segment(std::string(65, 'b'));
  EXPECT_EQ(s.size(), kMaxSegmentBytes);
  EXPECT_NE(s, std::string(64, 'b'));
}

TEST(Sanitize, TruncationDoesNotLeaveDoubleUnderscore) {
  // Byte 55 of the sanitized text is '_': the prefix is trimmed before the suffix.
  const std::string raw = std::string(54, 'c') + "_" + std::string(40, 'd');
  const std::string s = sanitize_segment(raw);
  EXPECT_EQ(s.find("__"), std::string::npos) << s;
  EXPECT_LE(s.size(), kMaxSegmentBytes);
}

TEST(Sanitize, OutputAlphabet) {
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string s = sanitize_segment(all);
  for (char c : s) {
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') << int(c);
  }
}

TEST(Hash, Fnv1aKnownValues) {
  // Reference values of 64-bit FNV-1a.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Hash, SuffixIsEightHexDigitsAndStable) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string s = hash_suffix("addr" + std::to_string(i));
    ASSERT_EQ(s.size(), 8U);
    for (char c : s) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 1000U);
  EXPECT_EQ(hash_suffix("x"), hash_suffix("x"));
  const std::uint64_t h = fnv1a64("x");
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(h ^ (h >> 32)));
  EXPECT_EQ(hash_suffix("x"), buf);
}

}  // namespace
}  // namespace uc::normalize
