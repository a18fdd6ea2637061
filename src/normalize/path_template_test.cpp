#include "normalize/path_template.h"

#include <gtest/gtest.h>

#include <string>

namespace uc::normalize {
namespace {

PathValues values(std::string_view site, std::string_view area, std::string_view line, std::string_view equipment,
                  std::string_view signal_type, std::string_view tag_name, std::string_view source = "src",
                  std::string_view protocol = "mqtt") {
  return {site, area, line, equipment, signal_type, tag_name, source, protocol};
}

struct RenderCase {
  std::string tmpl;
  PathValues values;
  std::string want;
};

class RenderTable : public ::testing::TestWithParam<RenderCase> {};

TEST_P(RenderTable, Renders) {
  const auto& c = GetParam();
  auto t = PathTemplate::parse(c.tmpl);
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->render(c.values), c.want) << c.tmpl;
  EXPECT_EQ(t->render(c.values), t->render(c.values));  // stable
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RenderTable,
    ::testing::Values(
        RenderCase{"{site}/{area}/{line}/{equipment}/{signal_type}/{tag_name}",
                   values("plant1", "production", "line1", "plc1", "temperature", "reactor_temp"),
                   "plant1/production/line1/plc1/temperature/reactor_temp"},
        RenderCase{"{site}/{area}/{line}/{equipment}/{signal_type}/{tag_name}",
                   values("Plant 1", "Production", "Line.1", "PLC#1", "Temperature", "Reactor Temp"),
                   "plant_1/production/line_1/plc_1/temperature/reactor_temp"},
        // A tag name with '/' stays one segment.
        RenderCase{"{site}/{tag_name}", values("p", "", "", "", "", "motor/temp/pv"), "p/motor_temp_pv"},
        // Empty values never give empty segments.
        RenderCase{"{site}/{area}/{tag_name}", values("", "", "", "", "", ""), "unknown/unknown/unknown"},
        RenderCase{"{source}/{protocol}/{tag_name}", values("", "", "", "", "", "t", "Plant1_MQTT", "mqtt"),
                   "plant1_mqtt/mqtt/t"},
        // Several placeholders and literals in one segment; the segment is sanitized as a whole.
        RenderCase{"{site}-{area}/{line}_{equipment}", values("P1", "Prod", "L1", "", "", ""), "p1-prod/l1"},
        RenderCase{"Enterprise/{site}", values("p1", "", "", "", "", ""), "enterprise/p1"},
        RenderCase{"{tag_name}", values("", "", "", "", "", "Température"), "temperature"},
        RenderCase{"{tag_name}", values("", "", "", "", "", std::string_view("x")), "x"}));

struct ErrorCase {
  std::string tmpl;
  std::string want_substr;
};

class ErrorTable : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorTable, Rejects) {
  const auto& c = GetParam();
  auto t = PathTemplate::parse(c.tmpl);
  ASSERT_FALSE(t.is_ok()) << c.tmpl;
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find(c.want_substr), std::string::npos) << t.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ErrorTable,
    ::testing::Values(ErrorCase{"", "empty"},
                      ErrorCase{"{site}/{plant}", "unknown placeholder {plant}"},
                      ErrorCase{"{site}/{plant}", "at offset 7"},
                      ErrorCase{"{Site}", "unknown placeholder {Site}"},
                      ErrorCase{"{}", "unknown placeholder {}"},
                      ErrorCase{"{site", "unbalanced '{' at offset 0"},
                      ErrorCase{"{site/{area}", "unbalanced '{'"},
                      ErrorCase{"{si{te}}", "unbalanced '{'"},
                      ErrorCase{"site}", "'}' without '{' at offset 4"},
                      ErrorCase{"{site}}", "'}' without '{'"},
                      ErrorCase{"/{site}", "empty path segment at offset 0"},
                      ErrorCase{"{site}/", "empty path segment at offset 7"},
                      ErrorCase{"{site}//{area}", "empty path segment"}));

TEST(PathTemplate, Uses) {
  auto t = PathTemplate::parse("{site}/{tag_name}");
  ASSERT_TRUE(t.is_ok());
  EXPECT_TRUE(t->uses(Placeholder::kSite));
  EXPECT_TRUE(t->uses(Placeholder::kTagName));
  EXPECT_FALSE(t->uses(Placeholder::kArea));
  EXPECT_EQ(t->text(), "{site}/{tag_name}");
}

TEST(PathTemplate, PlaceholderNames) {
  EXPECT_EQ(placeholder_name(Placeholder::kSignalType), "signal_type");
  EXPECT_EQ(placeholder_name(Placeholder::kProtocol), "protocol");
}

}  // namespace
}  // namespace uc::normalize
