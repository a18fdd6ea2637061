#include "normalize/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace uc::normalize {
namespace {

TEST(Glob, SegmentsAndDoubleStar) {
  EXPECT_TRUE(glob_match("**", "a/b/c"));
  EXPECT_TRUE(glob_match("**", "a"));
  EXPECT_TRUE(glob_match("**", ""));
  EXPECT_TRUE(glob_match("Line*/**/Speed", "Line1/Mixer/Speed"));
  EXPECT_TRUE(glob_match("Line*/**/Speed", "Line1/Speed"));
  EXPECT_TRUE(glob_match("Line*/**/Speed", "Line1/a/b/c/Speed"));
  EXPECT_FALSE(glob_match("Line*/**/Speed", "Line1/a/b/c/Speed2"));
  EXPECT_FALSE(glob_match("Line*/Speed", "Line1/Mixer/Speed"));
  EXPECT_TRUE(glob_match("*/Temp?", "Oven/Temp1"));
  EXPECT_FALSE(glob_match("*/Temp?", "Oven/Temp12"));
  EXPECT_FALSE(glob_match("a/b", "a"));
  EXPECT_FALSE(glob_match("a", "a/b"));
  EXPECT_TRUE(glob_match("a/**", "a"));
  EXPECT_TRUE(glob_match("**/b", "a/x/b"));
  EXPECT_FALSE(glob_match("**/b", "a/x/c"));
  EXPECT_TRUE(glob_match("a//b", "a/b"));  // empty segments ignored
}

TEST(Glob, StarStaysWithinOneSegment) {
  EXPECT_TRUE(glob_match("plant/*", "plant/x"));
  EXPECT_FALSE(glob_match("plant/*", "plant/x/y"));
  EXPECT_TRUE(glob_match("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(glob_match("*a*b*", "xxbxxaxx"));
}

TEST(Glob, ManyDoubleStarsStayFast) {
  // A recursive matcher takes exponential time here; the table takes microseconds.
  std::string pattern, path;
  for (int i = 0; i < 200; ++i) pattern += "**/";
  pattern += "nomatch";
  for (int i = 0; i < 200; ++i) path += "s/";
  path += "end";
  EXPECT_FALSE(glob_match(pattern, path));
}

TEST(Glob, ValidateRejectsWhatIsAmbiguousOrOversized) {
  EXPECT_TRUE(validate_glob("a/**/b*").is_ok());
  EXPECT_TRUE(validate_glob("**").is_ok());
  EXPECT_FALSE(validate_glob("").is_ok());
  EXPECT_FALSE(validate_glob("/a").is_ok());
  EXPECT_FALSE(validate_glob("a/").is_ok());
  EXPECT_FALSE(validate_glob("a//b").is_ok());
  EXPECT_FALSE(validate_glob("a**").is_ok());
  EXPECT_FALSE(validate_glob(std::string(kMaxGlobBytes + 1, 'a')).is_ok());
  EXPECT_TRUE(validate_glob(std::string(kMaxGlobBytes, 'a')).is_ok());
}

}  // namespace
}  // namespace uc::normalize
