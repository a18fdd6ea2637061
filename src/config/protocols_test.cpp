// The OPC UA, MQTT and Modbus option parsers, through the loader.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/test_support.h"
#include "sources/modbus/config.h"
#include "sources/mqtt/config.h"
#include "sources/opcua/config.h"

namespace uc::config {
namespace {

using ::testing::ElementsAre;
using testing::make_loader;
using testing::messages;

constexpr const char* kHead = "connector: {name: t}\nsources:\n";

std::vector<std::string> errors_of(const std::string& sources) {
  return messages(make_loader().load_string(kHead + sources, "c.yaml"));
}

template <typename T>
std::shared_ptr<const T> options_of(const std::string& sources) {
  const LoadResult r = make_loader().load_string(kHead + sources, "c.yaml");
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  if (!r.ok()) return nullptr;
  return std::dynamic_pointer_cast<const T>(r.config->sources.at(0).options);
}

// --- Modbus -----------------------------------------------------------------------

constexpr const char* kModbus = "  - name: m\n    protocol: modbus\n    endpoint: modbus://10.0.0.7\n";

TEST(ModbusConfig, Float32OnACoil) {
  EXPECT_THAT(errors_of(std::string(kModbus) + "    registers:\n"
                                               "      - {name: a, table: coil, address: 0, type: float32}\n"),
              ElementsAre("c.yaml:7:50: sources[0].registers[0].type: type float32 is not allowed in table coil; coils "
                          "and discrete inputs hold single bits (type bool)"));
}

TEST(ModbusConfig, StringLength) {
  EXPECT_THAT(errors_of(std::string(kModbus) + "    registers:\n"
                                               "      - {name: a, table: holding, address: 0, type: string, length: 0}\n"
                                               "      - {name: b, table: holding, address: 10, type: string}\n"
                                               "      - {name: c, table: holding, address: 20, length: 4}\n"),
              ElementsAre("c.yaml:7:69: sources[0].registers[0].length: must be between 1 and 250, got 0",
                          "c.yaml:8:9: sources[0].registers[1]: missing required key \"length\" for type string",
                          "c.yaml:9:56: sources[0].registers[2].length: length is only allowed for type string"));
}

TEST(ModbusConfig, OverlappingRegistersNameBoth) {
  EXPECT_THAT(errors_of(std::string(kModbus) + "    registers:\n"
                                               "      - {name: speed, table: holding, address: 20, type: float32}\n"
                                               "      - {name: flags, table: holding, address: 21}\n"
                                               "      - {name: other_table, table: input, address: 21}\n"
                                               "      - {name: other_unit, table: holding, address: 21, unit_id: 2}\n"),
              ElementsAre("c.yaml:8:9: sources[0].registers[1]: register \"flags\" (holding 21..21) overlaps register "
                          "\"speed\" (holding 20..21) on unit 1"));
}

TEST(ModbusConfig, AddressRangeDependsOnZeroBased) {
  EXPECT_THAT(errors_of(std::string(kModbus) + "    registers:\n"
                                               "      - {name: a, table: input, address: 65534, type: float64}\n"
                                               "      - {name: b, table: input, address: 65536}\n"),
              ElementsAre("c.yaml:7:9: sources[0].registers[0]: register \"a\" ends at address 65537, beyond the last "
                          "address 65535",
                          "c.yaml:8:42: sources[0].registers[1].address: must be between 0 and 65535, got 65536"));
  EXPECT_THAT(errors_of(std::string(kModbus) + "    zero_based: false\n    registers:\n"
                                               "      - {name: a, table: holding, address: 0}\n"),
              ElementsAre("c.yaml:8:44: sources[0].registers[0].address: must be between 1 and 65536, got 0"));
  const auto o = options_of<sources::modbus::Options>(std::string(kModbus) + "    zero_based: false\n    registers:\n"
                                                                             "      - {name: a, table: holding, "
                                                                             "address: 40001, type: int32}\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->registers[0].address, 40000);
  EXPECT_EQ(o->registers[0].configured_address, 40001);
}

TEST(ModbusConfig, UnitIdsAndIntervals) {
  EXPECT_THAT(errors_of(std::string(kModbus) + "    unit_id: 300\n    poll_interval_ms: 5\n"
                                               "    registers: [{name: a, table: sideways, address: 0}]\n"),
              ElementsAre("c.yaml:6:14: sources[0].unit_id: must be between 0 and 247, got 300",
                          "c.yaml:7:23: sources[0].poll_interval_ms: must be between 10 and 86400000, got 5",
                          "c.yaml:8:34: sources[0].registers[0].table: expected one of coil | discrete | holding | "
                          "input, got \"sideways\""));
  EXPECT_THAT(errors_of(std::string(kModbus) + "    unit_id: 1\n    unit_ids: [1, 2]\n"),
              ElementsAre("c.yaml:7:15: sources[0].unit_ids: use either unit_id or unit_ids, not both"));
  const auto o = options_of<sources::modbus::Options>(
      std::string(kModbus) + "    unit_ids: [3, 4]\n    registers: [{name: a, table: holding, address: 0, type: float32}]\n");
  ASSERT_NE(o, nullptr);
  EXPECT_THAT(o->unit_ids, ElementsAre(3, 4));
  EXPECT_EQ(o->registers[0].type, sources::modbus::DataType::kFloat32);
  EXPECT_EQ(o->port, 502);
}

TEST(ModbusConfig, Endpoints) {
  EXPECT_THAT(errors_of("  - {name: m, protocol: modbus, endpoint: \"tcp://x\"}\n"),
              ElementsAre("c.yaml:3:43: sources[0].endpoint: expected modbus://HOST[:PORT] or "
                          "modbusrtu:///DEVICE?baud=N&parity=N|E|O&stop=1|2, got \"tcp://x\""));
  EXPECT_THAT(errors_of("  - {name: m, protocol: modbus, endpoint: \"modbusrtu:///dev/ttyS0?baud=9600&parity=X\"}\n"),
              ElementsAre("c.yaml:3:43: sources[0].endpoint: invalid endpoint "
                          "\"modbusrtu:///dev/ttyS0?baud=9600&parity=X\": invalid parity \"X\"; expected N, E or O"));
  EXPECT_THAT(errors_of("  - {name: m, protocol: modbus, endpoint: \"modbus://host:99999\"}\n"),
              ElementsAre("c.yaml:3:43: sources[0].endpoint: invalid host or port in \"modbus://host:99999\""));
  EXPECT_THAT(errors_of("  - {name: m, protocol: modbus}\n"),
              ElementsAre("c.yaml:3:5: sources[0]: missing required key \"endpoint\""));
  const auto o = options_of<sources::modbus::Options>(
      "  - {name: m, protocol: modbus, endpoint: \"modbusrtu:///dev/ttyUSB0?baud=19200&parity=E&stop=2\"}\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->transport, sources::modbus::Transport::kRtu);
  EXPECT_EQ(o->device, "/dev/ttyUSB0");
  EXPECT_EQ(o->baud, 19200);
  EXPECT_EQ(o->parity, sources::modbus::Parity::kEven);
  EXPECT_EQ(o->stop_bits, 2);
}

TEST(ModbusConfig, RegisterWidths) {
  using sources::modbus::DataType;
  using sources::modbus::register_width;
  EXPECT_EQ(register_width(DataType::kBool, 0), 1);
  EXPECT_EQ(register_width(DataType::kUint16, 0), 1);
  EXPECT_EQ(register_width(DataType::kFloat32, 0), 2);
  EXPECT_EQ(register_width(DataType::kInt64, 0), 4);
  EXPECT_EQ(register_width(DataType::kString, 1), 1);
  EXPECT_EQ(register_width(DataType::kString, 5), 3);
}

// --- OPC UA -------------------------------------------------------------------------------

TEST(OpcUaConfig, NodeIds) {
  using sources::opcua::is_valid_node_id;
  EXPECT_TRUE(is_valid_node_id("i=85"));
  EXPECT_TRUE(is_valid_node_id("ns=2;s=Line1.Mixer.Speed"));
  EXPECT_TRUE(is_valid_node_id("nsu=urn:sim:plant;s=a;b"));
  EXPECT_TRUE(is_valid_node_id("nsu=http://x.org/UA/;i=1"));
  EXPECT_TRUE(is_valid_node_id("ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a"));
  EXPECT_TRUE(is_valid_node_id("ns=1;b=M/RbKBsRVkePCePcx24oRA=="));
  EXPECT_FALSE(is_valid_node_id(""));
  EXPECT_FALSE(is_valid_node_id("s="));
  EXPECT_FALSE(is_valid_node_id("ns=70000;i=1"));
  EXPECT_FALSE(is_valid_node_id("ns=2;x=5"));
  EXPECT_FALSE(is_valid_node_id("i=abc"));
  EXPECT_FALSE(is_valid_node_id("i=4294967296"));
  EXPECT_FALSE(is_valid_node_id("g=1234"));
  EXPECT_FALSE(is_valid_node_id("nsu=;i=1"));
  EXPECT_FALSE(is_valid_node_id("b=abc"));
}

TEST(OpcUaConfig, BadNodeIdAndEndpoint) {
  EXPECT_THAT(errors_of("  - name: o\n    protocol: opcua\n    endpoint: http://x:4840\n    nodes:\n"
                        "      - {node_id: \"ns=2;x=5\"}\n      - {tag_name: t}\n"),
              ElementsAre("c.yaml:5:15: sources[0].endpoint: must start with opc.tcp://, got \"http://x:4840\"",
                          "c.yaml:7:19: sources[0].nodes[0].node_id: invalid node id \"ns=2;x=5\"; expected "
                          "[ns=N;|nsu=URI;] followed by i=, s=, g= or b=",
                          "c.yaml:8:9: sources[0].nodes[1]: one of node_id or browse_path is required"));
}

TEST(OpcUaConfig, SecurityAndStructure) {
  EXPECT_THAT(errors_of("  - name: o\n    protocol: opcua\n    endpoint: opc.tcp://h:4840\n"
                        "    mode: push\n"
                        "    security: {policy: Basic256Sha256, mode: None, certificate_file: c.pem}\n"),
              ElementsAre("c.yaml:6:11: sources[0].mode: expected one of subscription | polling, got \"push\"",
                          "c.yaml:7:15: sources[0].security: certificate_file and private_key_file must be given "
                          "together",
                          "c.yaml:7:46: sources[0].security.mode: mode must be Sign or SignAndEncrypt when policy is "
                          "not None"));
  const auto o = options_of<sources::opcua::Options>(
      "  - name: o\n    protocol: opcua\n    endpoint: opc.tcp://h:4840/UA/Server\n    mode: polling\n"
      "    security: {policy: Aes128_Sha256_RsaOaep, username: op, password: \"${credential:opc_pw}\"}\n"
      "    browse: [{root: Objects}]\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->mode, sources::opcua::Mode::kPolling);
  EXPECT_EQ(o->security.mode, sources::opcua::SecurityMode::kSignAndEncrypt);
  EXPECT_EQ(o->security.username.value, "op");
  EXPECT_EQ(o->security.password.reference, "opc_pw");
  EXPECT_FALSE(o->security.password.resolved);
  EXPECT_EQ(o->browse[0].pattern, "**");
  EXPECT_EQ(o->timeout_ms, 10000);
}

// The back-off keys are common to every protocol (config::SourceConfig).
TEST(SourceConfig, BackoffIsACommonKeyOfEveryProtocol) {
  for (const char* protocol : {"opcua", "mqtt", "modbus", "synthetic"}) {
    const auto r = make_loader().load_string(
        std::string("connector: {name: t}\nsources:\n  - name: o\n    protocol: ") + protocol +
            "\n    backoff_initial_ms: 100\n    backoff_max_ms: 400\n",
        "c.yaml");
    // Protocol options are incomplete here (errors of their own); no error may be about
    // the back-off keys (an unknown key would be).
    for (const auto& e : r.errors) EXPECT_EQ(e.to_string().find("backoff"), std::string::npos) << e.to_string();
  }
  const auto set = make_loader().load_string(
      "connector: {name: t}\nsources:\n  - name: s\n    protocol: synthetic\n"
      "    backoff_initial_ms: 100\n    backoff_max_ms: 400\n",
      "c.yaml");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set.config->sources[0].backoff_initial_ms, 100);
  EXPECT_EQ(set.config->sources[0].backoff_max_ms, 400);
  const auto d = make_loader().load_string("connector: {name: t}\nsources:\n  - name: s\n    protocol: synthetic\n",
                                           "c.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.config->sources[0].backoff_initial_ms, 500);
  EXPECT_EQ(d.config->sources[0].backoff_max_ms, 30000);
}

TEST(OpcUaConfig, TimeoutAndBackoff) {
  const auto o = options_of<sources::opcua::Options>(
      "  - name: o\n    protocol: opcua\n    endpoint: opc.tcp://h:4840\n    nodes: [{node_id: i=2258}]\n"
      "    timeout_ms: 2000\n    backoff_initial_ms: 100\n    backoff_max_ms: 400\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->timeout_ms, 2000);
  EXPECT_THAT(errors_of("  - name: o\n    protocol: opcua\n    endpoint: opc.tcp://h:4840\n    nodes: [{node_id: i=1}]\n"
                        "    backoff_initial_ms: 1000\n    backoff_max_ms: 10\n"),
              ElementsAre("c.yaml:8:21: sources[0].backoff_max_ms: must not be less than backoff_initial_ms (1000)"));
}

// --- MQTT ------------------------------------------------------------------------------------

TEST(MqttConfig, TopicFilters) {
  using sources::mqtt::check_topic_filter;
  EXPECT_EQ(check_topic_filter("#"), std::nullopt);
  EXPECT_EQ(check_topic_filter("a/+/c/#"), std::nullopt);
  EXPECT_EQ(check_topic_filter("+"), std::nullopt);
  EXPECT_EQ(check_topic_filter("spBv1.0/#"), std::nullopt);
  EXPECT_EQ(check_topic_filter("/a//b/"), std::nullopt);
  EXPECT_NE(check_topic_filter("a/#/b"), std::nullopt);
  EXPECT_NE(check_topic_filter("a#"), std::nullopt);
  EXPECT_NE(check_topic_filter("a/b+"), std::nullopt);
  EXPECT_NE(check_topic_filter("++"), std::nullopt);
  EXPECT_NE(check_topic_filter(""), std::nullopt);
}

TEST(MqttConfig, BadWildcardsAndOptions) {
  EXPECT_THAT(errors_of("  - name: q\n    protocol: mqtt\n    endpoint: mqtt://broker:1883\n    qos: 3\n"
                        "    topics: [\"factory/#/x\", \"a/b+\", \"ok/+/#\"]\n    payload_format: xml\n"),
              ElementsAre("c.yaml:6:10: sources[0].qos: must be between 0 and 2, got 3",
                          "c.yaml:7:14: sources[0].topics[0]: invalid topic filter \"factory/#/x\": \"#\" must be the "
                          "last level and alone in it",
                          "c.yaml:7:29: sources[0].topics[1]: invalid topic filter \"a/b+\": \"+\" must be alone in its "
                          "level",
                          "c.yaml:8:21: sources[0].payload_format: expected one of auto | json | sparkplug_b | text, "
                          "got \"xml\""));
  EXPECT_THAT(errors_of("  - {name: q, protocol: mqtt, endpoint: \"tcp://b\", topics: []}\n"),
              ElementsAre("c.yaml:3:41: sources[0].endpoint: must start with mqtt:// or mqtts://, got \"tcp://b\"",
                          "c.yaml:3:60: sources[0].topics: must not be empty"));
  const auto all = options_of<sources::mqtt::Options>("  - {name: q, protocol: mqtt, endpoint: \"mqtt://b\"}\n");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->topics, std::vector<std::string>{"#"});  // the prototype's default
}

TEST(MqttConfig, Defaults) {
  const auto o = options_of<sources::mqtt::Options>(
      "  - {name: q, protocol: mqtt, endpoint: \"mqtts://broker.local\", topics: [\"a/#\"]}\n");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->host, "broker.local");
  EXPECT_EQ(o->port, 8883);
  EXPECT_TRUE(o->tls.enabled);
  EXPECT_EQ(o->qos, 1);
  EXPECT_EQ(o->payload_format, sources::mqtt::PayloadFormat::kAuto);
  EXPECT_EQ(o->json.value_field, "value");
  EXPECT_TRUE(o->clean_session);
}

}  // namespace
}  // namespace uc::config
