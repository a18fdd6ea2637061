// OPC UA source options added with monitored-item settings and nodes by browse path (the
// rest are in config/protocols_test.cpp), and the parts of the source built from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/test_support.h"
#include "protocols/opcua/encoding.h"
#include "protocols/opcua/generated/node_ids.h"
#include "sources/opcua/config.h"
#include "sources/opcua/tags.h"

namespace uc::sources::opcua {
namespace {

namespace ua = uc::opcua;
using ::testing::ElementsAre;

constexpr const char* kHead = "connector: {name: t}\nsources:\n  - name: o\n    protocol: opcua\n"
                              "    endpoint: opc.tcp://127.0.0.1:4840\n";

std::vector<std::string> errors_of(const std::string& rest) { return config::testing::errors_of(kHead + rest); }

std::shared_ptr<const Options> options_of(const std::string& rest) {
  return config::testing::first_source_options<Options>(kHead + rest);
}

TEST(OpcuaItemOptions, DefaultsSourceLevelAndPerNode) {
  auto o = options_of("    nodes: [{node_id: i=2258}]\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->queue_size, 1);
  EXPECT_TRUE(o->discard_oldest);
  EXPECT_EQ(o->deadband.type, DeadbandType::kNone);
  ua::MonitoringParameters p = item_parameters(*o, &o->nodes[0]);
  EXPECT_EQ(p.sampling_interval, 500);
  EXPECT_EQ(p.queue_size, 1u);
  EXPECT_TRUE(p.discard_oldest);
  EXPECT_EQ(p.filter, ua::ExtensionObject{});  // no filter at all without a deadband

  o = options_of("    sampling_interval_ms: 250\n    queue_size: 5\n    discard_oldest: false\n"
                 "    deadband: {type: absolute, value: 0.5}\n"
                 "    nodes:\n"
                 "      - {node_id: i=2258}\n"
                 "      - {node_id: i=2259, sampling_interval_ms: 0, queue_size: 1, discard_oldest: true,\n"
                 "         deadband: {type: percent, value: 2.5}}\n"
                 "      - {node_id: i=2260, deadband: {type: none}}\n");
  ASSERT_NE(o, nullptr);
  p = item_parameters(*o, &o->nodes[0]);
  EXPECT_EQ(p.sampling_interval, 250);
  EXPECT_EQ(p.queue_size, 5u);
  EXPECT_FALSE(p.discard_oldest);
  ua::DataChangeFilter f;
  ASSERT_EQ(p.filter.type_id, ua::NodeId(ua::DataChangeFilter::kBinaryEncodingId));
  ASSERT_TRUE(ua::decode_extension(p.filter, f, ua::Limits()));
  EXPECT_EQ(f.trigger, ua::DataChangeTrigger::kStatusValue);
  EXPECT_EQ(f.deadband_type, 1u);
  EXPECT_EQ(f.deadband_value, 0.5);

  p = item_parameters(*o, &o->nodes[1]);
  EXPECT_EQ(p.sampling_interval, 0);
  EXPECT_EQ(p.queue_size, 1u);
  EXPECT_TRUE(p.discard_oldest);
  ASSERT_TRUE(ua::decode_extension(p.filter, f, ua::Limits()));
  EXPECT_EQ(f.deadband_type, 2u);
  EXPECT_EQ(f.deadband_value, 2.5);

  p = item_parameters(*o, &o->nodes[2]);  // a node may switch the source's deadband off
  EXPECT_EQ(p.filter, ua::ExtensionObject{});
  p = item_parameters(*o, nullptr);  // discovered: the source's settings
  EXPECT_EQ(p.queue_size, 5u);
  ASSERT_TRUE(ua::decode_extension(p.filter, f, ua::Limits()));
  EXPECT_EQ(f.deadband_type, 1u);
}

TEST(OpcuaItemOptions, BadValuesAreClearErrors) {
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: {type: percent, value: 101}\n"),
              ElementsAre("c.yaml:7:38: sources[0].deadband.value: a percent deadband must be between 0 and 100, got "
                          "101"));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: {type: absolute, value: -0.1}\n"),
              ElementsAre("c.yaml:7:39: sources[0].deadband.value: an absolute deadband must be >= 0, got -0.1"));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: {type: relative, value: 1}\n"),
              ElementsAre("c.yaml:7:22: sources[0].deadband.type: expected one of none | absolute | percent, got "
                          "\"relative\""));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: {value: 1}\n"),
              ElementsAre("c.yaml:7:15: sources[0].deadband: missing required key \"type\""));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: {type: absolute}\n"),
              ElementsAre("c.yaml:7:15: sources[0].deadband: missing required key \"value\""));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: {type: absolute, value: lots}\n"),
              ElementsAre("c.yaml:7:39: sources[0].deadband.value: expected a number, got \"lots\""));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: {type: none, value: 3}\n"),
              ElementsAre("c.yaml:7:35: sources[0].deadband.value: must not be given when type is none"));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    deadband: 5\n"),
              ElementsAre("c.yaml:7:15: sources[0].deadband: expected a map, got \"5\""));
  EXPECT_THAT(errors_of("    nodes: [{node_id: i=1}]\n    queue_size: 0\n"),
              ElementsAre("c.yaml:7:17: sources[0].queue_size: must be between 1 and 65535, got 0"));
  EXPECT_THAT(errors_of("    nodes:\n      - {node_id: i=1, queue_size: 70000, sampling_interval_ms: -1,\n"
                        "         deadband: {type: percent, value: 1e999}, colour: red}\n"),
              ElementsAre("c.yaml:7:36: sources[0].nodes[0].queue_size: must be between 1 and 65535, got 70000",
                          "c.yaml:7:65: sources[0].nodes[0].sampling_interval_ms: must be between 0 and 3600000, got -1",
                          "c.yaml:8:43: sources[0].nodes[0].deadband.value: expected a number, got \"1e999\"",
                          "c.yaml:8:51: sources[0].nodes[0]: unknown key \"colour\""));
}

TEST(OpcuaBrowsePath, NodesByBrowsePath) {
  const auto o = options_of("    nodes:\n      - {browse_path: \"Objects/2:Plant/Line 1/Speed\", tag_name: speed}\n"
                            "      - {browse_path: \"Root/Objects/Server\"}\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->nodes[0].browse_path, "Objects/2:Plant/Line 1/Speed");
  EXPECT_TRUE(o->nodes[0].node_id.empty());
  EXPECT_THAT(o->nodes[0].path, ElementsAre(PathSegment{std::nullopt, "Objects"}, PathSegment{2, "Plant"},
                                            PathSegment{std::nullopt, "Line 1"}, PathSegment{std::nullopt, "Speed"}));
  EXPECT_THAT(o->nodes[1].path, ElementsAre(PathSegment{std::nullopt, "Objects"}, PathSegment{std::nullopt, "Server"}));

  // A plain segment takes the namespace of the one before (the first: 0).
  const ua::BrowsePath bp = to_browse_path(o->nodes[0].path);
  EXPECT_EQ(bp.starting_node, ua::NodeId(ua::ids::kRootFolder));
  ASSERT_EQ(bp.relative_path.elements.size(), 4u);
  EXPECT_EQ(bp.relative_path.elements[0].target_name, (ua::QualifiedName{0, std::string("Objects")}));
  EXPECT_EQ(bp.relative_path.elements[1].target_name, (ua::QualifiedName{2, std::string("Plant")}));
  EXPECT_EQ(bp.relative_path.elements[3].target_name, (ua::QualifiedName{2, std::string("Speed")}));
  for (const auto& e : bp.relative_path.elements) {
    EXPECT_EQ(e.reference_type_id, ua::NodeId(ua::ids::kHierarchicalReferences));
    EXPECT_TRUE(e.include_subtypes);
    EXPECT_FALSE(e.is_inverse);
  }
}

TEST(OpcuaBrowsePath, ExactlyOneOfNodeIdAndBrowsePath) {
  EXPECT_THAT(errors_of("    nodes:\n      - {node_id: i=1, browse_path: Objects}\n      - {tag_name: x}\n"),
              ElementsAre("c.yaml:7:9: sources[0].nodes[0]: give either node_id or browse_path, not both",
                          "c.yaml:8:9: sources[0].nodes[1]: one of node_id or browse_path is required"));
}

TEST(OpcuaBrowsePath, MalformedPathsAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "must not be empty"},
      {"/Objects", "has an empty segment at character 1"},
      {"Objects//Plant", "has an empty segment at character 9"},
      {"Objects/Plant/", "has an empty segment at character 15"},
      {"Objects/2:", "segment \"2:\" has no name after the namespace index"},
      {"Objects/65536:Plant", "segment \"65536:Plant\": namespace index must be 0..65535"},
      {"Objects/99999999999:Plant", "segment \"99999999999:Plant\": namespace index must be 0..65535"},
      {"Root", "names no node below Root"},
      {std::string(5000, 'a'), "is longer than 4096 characters"},
  };
  for (const auto& [text, why] : cases) {
    std::vector<PathSegment> out;
    std::string error;
    EXPECT_FALSE(parse_browse_path(text, out, error)) << text;
    EXPECT_EQ(error, why) << text;
  }
  // A colon after a non-number is part of the name; "Root" only counts first.
  std::vector<PathSegment> out;
  std::string error;
  ASSERT_TRUE(parse_browse_path("a:b/1:c:d/Root", out, error)) << error;
  EXPECT_THAT(out, ElementsAre(PathSegment{std::nullopt, "a:b"}, PathSegment{1, "c:d"}, PathSegment{std::nullopt, "Root"}));
  ASSERT_TRUE(parse_browse_path(":x", out, error)) << error;
  EXPECT_THAT(out, ElementsAre(PathSegment{std::nullopt, ":x"}));

  EXPECT_THAT(errors_of("    nodes: [{browse_path: \"Objects//X\"}]\n"),
              ElementsAre("c.yaml:6:27: sources[0].nodes[0].browse_path: browse path \"Objects//X\" has an empty "
                          "segment at character 9; expected segments Name or N:Name separated by /"));
}

}  // namespace
}  // namespace uc::sources::opcua
