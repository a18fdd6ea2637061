// Loading whole files: the reference configuration, every kind of error with
// its exact text, substitution and secrets, and hostile files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/test_support.h"
#include "sources/modbus/config.h"
#include "sources/mqtt/config.h"
#include "sources/opcua/config.h"

namespace uc::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::make_loader;
using testing::messages;
using testing::note_messages;

// SPEC Appendix A, verbatim.
constexpr const char* kReferenceConfig = R"yaml(
connector:
  name: plant1-edge
  log_level: info                     # trace | debug | info | warn | error
  data_dir: ./data                    # default home of spool, DLQ, file sink output, certificates

web_ui:
  enabled: true
  host: 127.0.0.1
  port: 8080
  auth_token: ${credential:api_token} # required when host is not a loopback address
  tls: {enabled: false, cert_file: "", key_file: ""}

simulator:                            # optional: the OT simulator, in-process
  enabled: true
  opcua:  {enabled: true, port: 4840, variables: 200}
  modbus: {enabled: true, port: 5020}
  mqtt:   {enabled: true, broker: mqtt://127.0.0.1:1883, json: true, sparkplug: true}

normalization:
  enabled: true
  path_template: "{site}/{area}/{line}/{equipment}/{signal_type}/{tag_name}"
  default_context: {site: plant1, area: production, line: line1, equipment: unknown}
  rules:                              # named groups fill path parts
    - {protocol: mqtt, topic: "factory/(?P<line>[^/]+)/(?P<equipment>[^/]+)/(?P<tag_name>.+)"}

sources:
  - name: plant1_opcua
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:4840
    site: plant1
    area: production
    line: line1
    mode: subscription                # subscription | polling
    publishing_interval_ms: 1000
    sampling_interval_ms: 500
    polling_interval_ms: 1000
    security: {policy: None, mode: None, username: "", password: "", certificate_file: "", private_key_file: ""}
    nodes:                            # explicit nodes; namespace by URI or index
      - {node_id: "nsu=urn:sim:plant;s=Line1.Mixer.Speed", tag_name: mixer_speed, signal_type: speed, unit: rpm}
    browse:                           # and/or discovered variables
      - {root: "Objects/Plant", pattern: "**", max_nodes: 10000}

  - name: plant1_mqtt
    protocol: mqtt
    endpoint: mqtt://127.0.0.1:1883
    client_id: uc-plant1
    qos: 1
    topics: ["factory/#", "spBv1.0/#"]
    payload_format: auto              # auto | json | sparkplug_b | text
    json: {value_field: value, timestamp_field: ts, quality_field: quality}

  - name: plant1_modbus
    protocol: modbus
    endpoint: modbus://127.0.0.1:5020 # or modbusrtu:///dev/ttyUSB0?baud=19200&parity=E&stop=1
    unit_id: 1
    poll_interval_ms: 1000
    byte_order: ABCD                  # default for this device: ABCD | CDAB | BADC | DCBA
    zero_based: true
    registers:
      - {name: tank_level, table: holding, address: 0, type: float32, byte_order: CDAB, scale: 1.0, offset: 0.0, unit: m}
      - {name: pump_running, table: coil, address: 0, type: bool}

backpressure:
  max_queue_size: 50000
  drop_policy: block                  # block | oldest | newest
  disk_spool: {enabled: true, directory: ./data/spool, max_size_mb: 512, fsync: interval}
  dlq: {directory: ./data/dlq}

sinks:
  file: {enabled: true, directory: ./data/records, rotate_mb: 64}

zerobus:
  enabled: false
  workspace_host: https://dbc-1234.cloud.databricks.com
  endpoint: 1234567890123456.zerobus.us-west-2.cloud.databricks.com
  tls: true                           # false only for a local test server
  auth: {client_id: ${credential:zerobus_client_id}, client_secret: ${credential:zerobus_client_secret}}
  record_format: proto                # proto | json
  default_target: {catalog: manufacturing, schema: plant1, table: ot_bronze}
  source_targets:
    plant1_mqtt: {catalog: manufacturing, schema: plant1, table: mqtt_bronze}
  batch: {max_records: 1000, max_bytes: 4194304, linger_ms: 100}

credentials:
  store: ./data/credentials.enc       # the encrypted store (mode 0600); `creds --store FILE` for the CLI
  # master password: env CONNECTOR_MASTER_PASSWORD, or a key file named by env CONNECTOR_KEY_FILE

discovery:
  enabled: false
  subnets: ["127.0.0.1/32"]
  ports: {opcua: [4840], mqtt: [1883, 8883], modbus: [502]}
  interval_s: 3600
)yaml";

// The reference text starts with a newline so that it reads well above; the
// SPEC file's line 1 is our line 2.
std::string reference() { return std::string(kReferenceConfig).substr(1); }

std::vector<std::string> errors_of(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  return messages(make_loader(std::move(env)).load_string(yaml, "c.yaml"));
}

TEST(ReferenceConfig, LoadsWithoutErrors) {
  const LoadResult r = make_loader().load_string(reference(), "reference.yaml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const Config& c = *r.config;
  EXPECT_EQ(c.file, "reference.yaml");
  EXPECT_EQ(c.connector.name, "plant1-edge");
  EXPECT_EQ(c.connector.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.connector.data_dir, "./data");
  EXPECT_TRUE(c.web_ui.enabled);
  EXPECT_EQ(c.web_ui.host, "127.0.0.1");
  EXPECT_EQ(c.web_ui.port, 8080);
  EXPECT_EQ(c.web_ui.auth_token.reference, "api_token");
  EXPECT_FALSE(c.web_ui.auth_token.resolved);
  EXPECT_TRUE(c.web_ui.auth_token.value.empty());
  EXPECT_FALSE(c.web_ui.tls.enabled);
  EXPECT_TRUE(c.simulator.enabled);
  EXPECT_EQ(c.simulator.opcua.variables, 200);
  EXPECT_EQ(c.simulator.modbus.port, 5020);
  EXPECT_EQ(c.simulator.mqtt.broker, "mqtt://127.0.0.1:1883");
  EXPECT_EQ(c.normalization.path_template, kDefaultPathTemplate);
  EXPECT_EQ(c.normalization.default_context.equipment, "unknown");
  ASSERT_EQ(c.normalization.rules.size(), 1U);
  EXPECT_EQ(c.normalization.rules[0].protocol, "mqtt");
  EXPECT_EQ(c.normalization.rules[0].field, RuleField::kAddress);
  EXPECT_EQ(c.normalization.rules[0].pattern, "factory/(?P<line>[^/]+)/(?P<equipment>[^/]+)/(?P<tag_name>.+)");
  EXPECT_EQ(c.normalization.rules[0].location.line, 24);

  ASSERT_EQ(c.sources.size(), 3U);
  const SourceConfig& opc = c.sources[0];
  EXPECT_EQ(opc.name, "plant1_opcua");
  EXPECT_EQ(opc.protocol, "opcua");
  EXPECT_EQ(opc.endpoint, "opc.tcp://127.0.0.1:4840");
  EXPECT_EQ(opc.site, "plant1");
  EXPECT_EQ(opc.line, "line1");
  EXPECT_EQ(opc.line_no, 27);
  EXPECT_EQ(opc.column, 5);
  const auto* o = dynamic_cast<const sources::opcua::Options*>(opc.options.get());
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->mode, sources::opcua::Mode::kSubscription);
  EXPECT_EQ(o->sampling_interval_ms, 500);
  EXPECT_EQ(o->security.policy, sources::opcua::SecurityPolicy::kNone);
  ASSERT_EQ(o->nodes.size(), 1U);
  EXPECT_EQ(o->nodes[0].node_id, "nsu=urn:sim:plant;s=Line1.Mixer.Speed");
  EXPECT_EQ(o->nodes[0].unit, "rpm");
  ASSERT_EQ(o->browse.size(), 1U);
  EXPECT_EQ(o->browse[0].root, "Objects/Plant");
  EXPECT_EQ(o->browse[0].max_nodes, 10000);

  const auto* m = dynamic_cast<const sources::mqtt::Options*>(c.sources[1].options.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->host, "127.0.0.1");
  EXPECT_EQ(m->port, 1883);
  EXPECT_EQ(m->qos, 1);
  EXPECT_THAT(m->topics, ElementsAre("factory/#", "spBv1.0/#"));
  EXPECT_EQ(m->json.timestamp_field, "ts");

  const auto* b = dynamic_cast<const sources::modbus::Options*>(c.sources[2].options.get());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->transport, sources::modbus::Transport::kTcp);
  EXPECT_EQ(b->port, 5020);
  EXPECT_THAT(b->unit_ids, ElementsAre(1));
  ASSERT_EQ(b->registers.size(), 2U);
  EXPECT_EQ(b->registers[0].type, sources::modbus::DataType::kFloat32);
  EXPECT_EQ(b->registers[0].byte_order, sources::modbus::ByteOrder::kCDAB);
  EXPECT_EQ(b->registers[1].table, sources::modbus::Table::kCoil);
  EXPECT_EQ(b->registers[1].type, sources::modbus::DataType::kBool);

  EXPECT_EQ(c.backpressure.max_queue_size, 50000);
  EXPECT_EQ(c.backpressure.drop_policy, DropPolicy::kBlock);
  EXPECT_EQ(c.backpressure.disk_spool.fsync, FsyncPolicy::kInterval);
  EXPECT_EQ(c.backpressure.disk_spool.directory, "./data/spool");
  EXPECT_EQ(c.backpressure.dlq.directory, "./data/dlq");
  EXPECT_EQ(c.sinks.file.directory, "./data/records");
  EXPECT_EQ(c.sinks.file.rotate_s, 3600);
  EXPECT_FALSE(c.sinks.stdout_sink.enabled);
  EXPECT_FALSE(c.zerobus.enabled);
  EXPECT_EQ(c.zerobus.client_id.reference, "zerobus_client_id");
  EXPECT_EQ(c.zerobus.client_secret.reference, "zerobus_client_secret");
  ASSERT_TRUE(c.zerobus.default_target.has_value());
  EXPECT_EQ(c.zerobus.default_target->full_name(), "manufacturing.plant1.ot_bronze");
  EXPECT_EQ(c.zerobus.source_targets.at("plant1_mqtt").table, "mqtt_bronze");
  EXPECT_EQ(c.credentials.store, "./data/credentials.enc");
  EXPECT_THAT(c.discovery.subnets, ElementsAre("127.0.0.1/32"));
  EXPECT_THAT(c.discovery.mqtt_ports, ElementsAre(1883, 8883));
}

class FakeResolver : public CredentialResolver {
 public:
  Result<std::string> resolve(const std::string& name) const override {
    if (name == "api_token") return std::string("s3cr3t-token");
    if (name == "zerobus_client_id") return std::string("client-id-value");
    if (name == "zerobus_client_secret") return Status(StatusCode::kPermissionDenied, "the store is locked");
    return not_found("no credential named " + name);
  }
};

TEST(ReferenceConfig, ResolverFailureNamesKeyAndCredentialButNoSecret) {
  const FakeResolver resolver;
  const LoadResult r = make_loader().load_string(reference(), "reference.yaml", &resolver);
  EXPECT_THAT(messages(r), ElementsAre("reference.yaml:77:69: zerobus.auth.client_secret: cannot resolve credential "
                                       "\"zerobus_client_secret\": PERMISSION_DENIED: the store is locked"));
  for (const std::string& m : messages(r)) {
    EXPECT_THAT(m, Not(HasSubstr("s3cr3t-token")));
    EXPECT_THAT(m, Not(HasSubstr("client-id-value")));
  }
}

TEST(ReferenceConfig, ResolverFillsSecrets) {
  const FakeResolver resolver;
  std::string text = reference();
  text.replace(text.find("${credential:zerobus_client_secret}"), 35, "${credential:api_token}");
  const LoadResult r = make_loader().load_string(text, "reference.yaml", &resolver);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->web_ui.auth_token.value, "s3cr3t-token");
  EXPECT_TRUE(r.config->web_ui.auth_token.resolved);
  EXPECT_EQ(r.config->web_ui.auth_token.reference, "api_token");
  EXPECT_EQ(r.config->zerobus.client_id.value, "client-id-value");
}

// --- one error each ----------------------------------------------------------------

TEST(ConfigErrors, UnknownTopLevelKeySuggestsClosest) {
  EXPECT_THAT(errors_of("connector: {name: t}\nsinkz: {}\n"),
              ElementsAre("c.yaml:2:1: unknown key \"sinkz\"; did you mean \"sinks\"?"));
}

TEST(ConfigErrors, UnknownNestedKeySuggestsClosest) {
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui:\n  prot: 9000\n  colour: red\n"),
              ElementsAre("c.yaml:3:3: web_ui: unknown key \"prot\"; did you mean \"port\"?",
                          "c.yaml:4:3: web_ui: unknown key \"colour\""));
}

TEST(ConfigErrors, WrongTypes) {
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui:\n  port: abc\n  enabled: [1]\n  host: {a: 1}\n"),
              ElementsAre("c.yaml:3:9: web_ui.port: expected an integer, got \"abc\"",
                          "c.yaml:4:12: web_ui.enabled: expected true or false, got a list",
                          "c.yaml:5:9: web_ui.host: expected a string, got a map"));
  EXPECT_THAT(errors_of("connector: {name: t}\nsinks: [file]\n"),
              ElementsAre("c.yaml:2:8: sinks: expected a map, got a list"));
}

std::string host_name_as_config_name() {
  char buf[256] = {};
  std::string name = gethostname(buf, sizeof buf - 1) == 0 ? buf : "";
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '-';
  }
  return name.empty() ? "unified-connector" : name;
}

TEST(ConfigDefaults, TheConnectorIsNamedAfterTheHostWhenNoNameIsGiven) {
  auto r = make_loader().load_string("connector:\n  log_level: info\n", "c.yaml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->connector.name, host_name_as_config_name());
  EXPECT_THAT(note_messages(r), ElementsAre(HasSubstr("c.yaml:2:3: connector: name not set: the connector is named "
                                                      "after the host")));
  r = make_loader().load_string("web_ui: {}\n", "c.yaml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->connector.name, host_name_as_config_name());
}

TEST(ConfigDefaults, LogLevelsInAnyCaseAndPythonsNames) {
  auto r = make_loader().load_string("connector: {name: t, log_level: DEBUG}\n", "c.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->connector.log_level, LogLevel::kDebug);
  EXPECT_TRUE(r.notes.empty());
  r = make_loader().load_string("connector: {name: t, log_level: Warning}\n", "c.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->connector.log_level, LogLevel::kWarn);
  EXPECT_THAT(note_messages(r), ElementsAre("c.yaml:1:33: connector.log_level: \"Warning\" is read as \"warn\""));
  r = make_loader().load_string("connector: {name: t, log_level: CRITICAL}\n", "c.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->connector.log_level, LogLevel::kError);
}

TEST(ConfigErrors, BadEnum) {
  EXPECT_THAT(errors_of("connector: {name: t}\nbackpressure:\n  drop_policy: fifo\n"),
              ElementsAre("c.yaml:3:16: backpressure.drop_policy: expected one of block | oldest | newest, got \"fifo\""));
}

TEST(ConfigErrors, OutOfRangePort) {
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui: {port: 70000}\n"),
              ElementsAre("c.yaml:2:16: web_ui.port: must be between 1 and 65535, got 70000"));
}

TEST(ConfigErrors, BadConnectorName) {
  EXPECT_THAT(errors_of("connector: {name: \"plant 1\"}\n"),
              ElementsAre("c.yaml:1:19: connector.name: must match [A-Za-z0-9_.-]+, got \"plant 1\""));
}

TEST(ConfigErrors, DuplicateSourceName) {
  EXPECT_THAT(errors_of("connector: {name: t}\nsources:\n  - {name: a, protocol: synthetic}\n"
                        "  - {name: a, protocol: synthetic}\n"),
              ElementsAre("c.yaml:4:12: sources[1].name: duplicate source name \"a\" (first defined at line 3)"));
}

// Names are looked up in an index (issue 20: a linear search per source made a file of
// 200,000 sources take minutes); the duplicate still names the first one's line.
TEST(ConfigErrors, DuplicateSourceNamesAmongManyNameTheFirstOnesLine) {
  std::string yaml = "connector: {name: t}\nsources:\n";
  for (int i = 0; i < 3000; ++i) yaml += "  - {name: s" + std::to_string(i) + ", protocol: synthetic}\n";
  yaml += "  - {name: s1234, protocol: synthetic}\n  - {name: s2999, protocol: synthetic}\n";
  EXPECT_THAT(errors_of(yaml),
              ElementsAre("c.yaml:3003:12: sources[3000].name: duplicate source name \"s1234\" (first defined at line 1237)",
                          "c.yaml:3004:12: sources[3001].name: duplicate source name \"s2999\" (first defined at line 3002)"));
}

// Finding "did you mean" reads every source's name; it is done for the first 100 unknown
// names only, so that many wrong references cost time linear in their number.
TEST(ConfigErrors, OnlyTheFirstHundredUnknownSourceNamesGetASuggestion) {
  std::string yaml = "connector: {name: t}\nsources:\n  - {name: press, protocol: synthetic}\n"
                     "normalization:\n  mappings:\n";
  for (int i = 0; i < 150; ++i) yaml += "    - {source: prees, address: a" + std::to_string(i) + "}\n";
  const auto errors = errors_of(yaml);
  ASSERT_EQ(errors.size(), 150U);
  EXPECT_EQ(errors[0], "c.yaml:6:16: normalization.mappings[0].source: no source named \"prees\"; did you mean \"press\"?");
  EXPECT_EQ(errors[99],
            "c.yaml:105:16: normalization.mappings[99].source: no source named \"prees\"; did you mean \"press\"?");
  EXPECT_EQ(errors[100], "c.yaml:106:16: normalization.mappings[100].source: no source named \"prees\"");
}

TEST(ConfigErrors, UnknownProtocolListsRegistered) {
  EXPECT_THAT(errors_of("connector: {name: t}\nsources:\n  - {name: a, protocol: s7}\n"),
              ElementsAre("c.yaml:3:25: sources[0].protocol: unknown protocol \"s7\"; registered: modbus, mqtt, opcua, "
                          "synthetic"));
}

TEST(ConfigErrors, UnknownSourceKeyGoesThroughTheProtocolParser) {
  EXPECT_THAT(errors_of("connector: {name: t}\nsources:\n  - {name: a, protocol: synthetic, tagz: 5, sitee: x}\n"),
              ElementsAre("c.yaml:3:36: sources[0]: unknown key \"tagz\"; did you mean \"tags\"?",
                          "c.yaml:3:45: sources[0]: unknown key \"sitee\"; did you mean \"site\"?"));
}

TEST(ConfigErrors, BadYamlSyntax) {
  EXPECT_THAT(errors_of("connector: {name: t\nweb_ui: {}\n"),
              ElementsAre("c.yaml:2:7: invalid YAML: end of map flow not found"));
  EXPECT_THAT(errors_of("connector:\n  name: t\n   bad: indent\n"),
              ElementsAre("c.yaml:3:7: invalid YAML: illegal map value"));
}

TEST(ConfigErrors, MissingEnvironmentVariable) {
  EXPECT_THAT(errors_of("connector: {name: \"${env:CONNECTOR_NAME}\"}\n"),
              ElementsAre("c.yaml:1:19: connector.name: environment variable \"CONNECTOR_NAME\" is not set"));
}

TEST(ConfigErrors, BadCidr) {
  EXPECT_THAT(
      errors_of("connector: {name: t}\ndiscovery:\n  subnets: [\"10.0.0.0/8\", \"10.0.0/24\", \"1.2.3.4/33\", "
                "\"fe80::/64\", \"fe80::/129\", \"10.0.0.1\"]\n"),
      ElementsAre(
          "c.yaml:3:27: discovery.subnets[1]: invalid CIDR \"10.0.0/24\"; expected ADDRESS/PREFIX such as 192.168.1.0/24",
          "c.yaml:3:40: discovery.subnets[2]: invalid CIDR \"1.2.3.4/33\"; expected ADDRESS/PREFIX such as "
          "192.168.1.0/24",
          "c.yaml:3:67: discovery.subnets[4]: invalid CIDR \"fe80::/129\"; expected ADDRESS/PREFIX such as "
          "192.168.1.0/24",
          "c.yaml:3:81: discovery.subnets[5]: invalid CIDR \"10.0.0.1\"; expected ADDRESS/PREFIX such as "
          "192.168.1.0/24"));
}

TEST(ConfigErrors, PathTemplatePlaceholdersAndBraces) {
  EXPECT_THAT(errors_of("connector: {name: t}\nnormalization:\n  path_template: \"{site}/{plant}/{tag_name}\"\n"),
              ElementsAre("c.yaml:3:18: normalization.path_template: unknown placeholder \"{plant}\" in path template; "
                          "allowed: {site} {area} {line} {equipment} {signal_type} {tag_name} {source} {protocol}"));
  EXPECT_THAT(errors_of("connector: {name: t}\nsources:\n  - {name: a, protocol: synthetic, path_template: "
                        "\"{site}/{area\"}\n"),
              ElementsAre("c.yaml:3:51: sources[0].path_template: unbalanced braces in path template \"{site}/{area\""));
}

TEST(ConfigErrors, WebUiBeyondLoopbackNeedsToken) {
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui:\n  host: 0.0.0.0\n"),
              ElementsAre("c.yaml:3:3: web_ui: auth_token is required when host is not a loopback address (host "
                          "\"0.0.0.0\")"));
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui: {host: 127.0.0.9}\n"), ElementsAre());
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui: {host: 0.0.0.0, auth_token: \"${credential:tok}\"}\n"),
              ElementsAre());
}

TEST(ConfigErrors, AShortOrBlankTokenIsRefusedWithoutEchoingIt) {
  for (const char* token : {"x", "\" \"", "\"            \"", "elevenchars"}) {
    EXPECT_THAT(errors_of(std::string("connector: {name: t}\nweb_ui: {auth_token: ") + token + "}\n"),
                ElementsAre(HasSubstr("web_ui.auth_token: must be at least 12 characters and not only blanks")))
        << token;
  }
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui: {auth_token: twelve-chars}\n"), ElementsAre());
}

TEST(ConfigErrors, ZerobusTimeoutsAreBounded) {
  EXPECT_THAT(errors_of("connector: {name: t}\nzerobus:\n  ack_timeout_ms: 5\n  create_timeout_ms: 2000\n"),
              ElementsAre(HasSubstr("c.yaml:3:19: zerobus.ack_timeout_ms:")));
  EXPECT_THAT(errors_of("connector: {name: t}\nzerobus:\n  ack_timeout_ms: 500\n  create_timeout_ms: 2000\n"),
              ElementsAre());
}

// The prototype's two documented examples ("Minimal Local Dev" and "Production
// Multi-Source"): the first loads as written; the second fails only for what cannot be
// defaulted (where the workspace and the Zerobus endpoint are).
TEST(PrototypeConfigs, TheMinimalExampleLoads) {
  const auto r = make_loader().load_string(
      "connector:\n  log_level: \"DEBUG\"\n\nweb_ui:\n  enabled: true\n  port: 8080\n\ndiscovery:\n  enabled: true\n"
      "  network:\n    subnets: [\"192.168.1.0/24\"]\n\nzerobus:\n  enabled: false  # Enable via Web UI\n\n"
      "normalization:\n  enabled: true\n",
      "c.yaml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->connector.log_level, LogLevel::kDebug);
  EXPECT_EQ(r.config->discovery.subnets, std::vector<std::string>{"192.168.1.0/24"});
  EXPECT_THAT(note_messages(r), ElementsAre(HasSubstr("connector: name not set"),
                                            "c.yaml:11:5: discovery.network: network.subnets is read as "
                                            "discovery.subnets"));
}

TEST(PrototypeConfigs, TheProductionExampleNeedsOnlyWhereZerobusIs) {
  const auto r = make_loader().load_string(
      "sources:\n"
      "  - name: \"plant1_opcua\"\n    protocol: \"opcua\"\n    endpoint: \"opc.tcp://10.1.1.100:4840\"\n"
      "    site: \"plant1\"\n    area: \"production\"\n    line: \"line1\"\n\n"
      "  - name: \"plant1_mqtt\"\n    protocol: \"mqtt\"\n    endpoint: \"mqtt://10.1.1.101:1883\"\n"
      "    site: \"plant1\"\n    area: \"production\"\n    line: \"line2\"\n\n"
      "zerobus:\n  enabled: true\n  source_targets:\n"
      "    plant1_opcua:\n      catalog: \"manufacturing\"\n      schema: \"plant1\"\n      table: \"opcua_data\"\n"
      "    plant1_mqtt:\n      catalog: \"manufacturing\"\n      schema: \"plant1\"\n      table: \"mqtt_data\"\n",
      "c.yaml");
  EXPECT_THAT(messages(r), ElementsAre("c.yaml:17:3: zerobus: workspace_host is required when zerobus is enabled",
                                       "c.yaml:17:3: zerobus: endpoint is required when zerobus is enabled"));
  EXPECT_THAT(note_messages(r),
              ElementsAre("c.yaml:2:5: sources[0]: neither nodes nor browse: every variable below Objects is read "
                          "(browse root \"Objects\", up to 10000 nodes)",
                          "c.yaml:9:5: sources[1]: topics not set: subscribing to \"#\" (every topic the broker "
                          "lets this client read)"));
}

TEST(ConfigErrors, DefaultTargetIsNeededOnlyForSourcesWithoutOne) {
  const std::string zerobus =
      "zerobus:\n  enabled: true\n  workspace_host: https://x\n  endpoint: e.example\n"
      "  source_targets:\n    a: {catalog: c, schema: s, table: t}\n";
  EXPECT_THAT(errors_of("connector: {name: t}\nsources:\n  - {name: a, protocol: synthetic}\n" + zerobus),
              ElementsAre());
  EXPECT_THAT(errors_of("connector: {name: t}\nsources:\n  - {name: a, protocol: synthetic}\n"
                        "  - {name: b, protocol: synthetic}\n" + zerobus),
              ElementsAre("c.yaml:6:3: zerobus: default_target is required when zerobus is enabled and a source has "
                          "no entry in source_targets (b)"));
}

TEST(ConfigErrors, ZerobusEnabledNeedsEndpoint) {
  EXPECT_THAT(errors_of("connector: {name: t}\nzerobus:\n  enabled: true\n  workspace_host: https://x\n"
                        "  default_target: {catalog: a, schema: b, table: c}\n"),
              ElementsAre("c.yaml:3:3: zerobus: endpoint is required when zerobus is enabled"));
}

TEST(ConfigErrors, SourceTargetMustNameASource) {
  EXPECT_THAT(errors_of("connector: {name: t}\nsources:\n  - {name: plant1_mqtt, protocol: synthetic}\nzerobus:\n"
                        "  source_targets:\n    plant1_mqt: {catalog: a, schema: b, table: c}\n"),
              ElementsAre("c.yaml:6:5: zerobus.source_targets.plant1_mqt: no source named \"plant1_mqt\"; did you "
                          "mean \"plant1_mqtt\"?"));
}

TEST(ConfigErrors, CredentialOnlyInSecretFields) {
  EXPECT_THAT(errors_of("connector: {name: \"${credential:x}\"}\n"),
              ElementsAre("c.yaml:1:19: connector.name: credential references are only allowed in secret fields"));
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui:\n  auth_token: Bearer ${credential:x}\n"),
              ElementsAre("c.yaml:3:15: web_ui.auth_token: a credential reference must be the whole value, as in "
                          "${credential:NAME}"));
}

TEST(ConfigErrors, UnknownSubstitution) {
  EXPECT_THAT(errors_of("connector: {name: \"a${vault:x}\"}\n"),
              ElementsAre("c.yaml:1:19: connector.name: unknown substitution \"${vault...}\"; expected ${env:NAME} or "
                          "${credential:NAME}"));
  EXPECT_THAT(errors_of("connector: {name: \"a${env:X\"}\n"),
              ElementsAre("c.yaml:1:19: connector.name: unterminated \"${\" (write $${ for a literal \"${\")"));
}

TEST(ConfigErrors, DuplicateYamlKey) {
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui: {port: 1, port: 2}\n"),
              ElementsAre("c.yaml:2:19: web_ui: duplicate key \"port\""));
}

TEST(ConfigErrors, NormalizationRulesAndMappings) {
  EXPECT_THAT(errors_of("connector: {name: t}\nnormalization:\n  rules:\n    - {protocol: mqtt}\n"
                        "    - {topic: a, name: b}\n    - {protocol: zigbee, topic: x}\n"
                        "  mappings:\n    - {tag_name: x}\n    - {address: a, source: nope, eng_range: [5, 1]}\n"),
              ElementsAre("c.yaml:4:7: normalization.rules[0]: exactly one of topic | address | browse_path | name is "
                          "required",
                          "c.yaml:5:7: normalization.rules[1]: exactly one of topic | address | browse_path | name is "
                          "required, got topic and name",
                          "c.yaml:6:18: normalization.rules[2].protocol: unknown protocol \"zigbee\"; registered: "
                          "modbus, mqtt, opcua, synthetic",
                          "c.yaml:8:7: normalization.mappings[0]: missing required key \"address\"",
                          "c.yaml:9:28: normalization.mappings[1].source: no source named \"nope\"",
                          "c.yaml:9:45: normalization.mappings[1].eng_range: low must be less than high"));
}

TEST(ConfigErrors, SeveralErrorsInOneFileAreAllReported) {
  const std::string yaml =
      "connector:\n"
      "  name: bad name\n"
      "  log_level: loud\n"
      "web_ui: {port: 0}\n"
      "backpressure: {drop_policy: fifo, max_queue_size: -1}\n"
      "sources:\n"
      "  - {name: a, protocol: nope}\n"
      "discovery: {subnets: [bad]}\n";
  EXPECT_THAT(errors_of(yaml),
              ElementsAre("c.yaml:2:9: connector.name: must match [A-Za-z0-9_.-]+, got \"bad name\"",
                          "c.yaml:3:14: connector.log_level: expected one of trace | debug | info | warn | error, got "
                          "\"loud\"",
                          "c.yaml:4:16: web_ui.port: must be between 1 and 65535, got 0",
                          "c.yaml:5:29: backpressure.drop_policy: expected one of block | oldest | newest, got \"fifo\"",
                          "c.yaml:5:51: backpressure.max_queue_size: must be between 1 and 100000000, got -1",
                          "c.yaml:7:25: sources[0].protocol: unknown protocol \"nope\"; registered: modbus, mqtt, "
                          "opcua, synthetic",
                          "c.yaml:8:23: discovery.subnets[0]: invalid CIDR \"bad\"; expected ADDRESS/PREFIX such as "
                          "192.168.1.0/24"));
}

TEST(ConfigErrors, DocumentShape) {
  EXPECT_THAT(errors_of(""), ElementsAre("c.yaml:1:1: the configuration is empty"));
  EXPECT_THAT(errors_of("# only a comment\n"), ElementsAre("c.yaml:1:1: the configuration is empty"));
  EXPECT_THAT(errors_of("- a\n- b\n"), ElementsAre("c.yaml:1:1: expected a map at the top level, got a list"));
  EXPECT_THAT(errors_of("connector: {name: t}\n---\nconnector: {name: u}\n"),
              ElementsAre("c.yaml:3:1: expected a single YAML document, got 2"));
}

// --- substitution ----------------------------------------------------------------------

TEST(Substitution, EnvFullPartialAndSeveral) {
  const LoadResult r = make_loader({{"NAME", "edge7"}, {"HOST", "10.0.0.5"}, {"PORT", "9090"}, {"DIR", "/var/uc"}})
                           .load_string("connector:\n  name: ${env:NAME}\n  data_dir: \"${env:DIR}/x\"\n"
                                        "web_ui: {host: \"${env:HOST}\", port: \"${env:PORT}\", "
                                        "auth_token: \"${env:HOST}:${env:PORT}\"}\n"
                                        "sinks:\n  file: {directory: \"${env:DIR}/${env:NAME}/$${literal}\"}\n",
                                        "c.yaml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->connector.name, "edge7");
  EXPECT_EQ(r.config->connector.data_dir, "/var/uc/x");
  EXPECT_EQ(r.config->web_ui.host, "10.0.0.5");
  EXPECT_EQ(r.config->web_ui.port, 9090);
  EXPECT_EQ(r.config->web_ui.auth_token.value, "10.0.0.5:9090");
  EXPECT_TRUE(r.config->web_ui.auth_token.reference.empty());
  EXPECT_EQ(r.config->sinks.file.directory, "/var/uc/edge7/${literal}");
  EXPECT_EQ(r.config->backpressure.disk_spool.directory, "/var/uc/x/spool");
}

TEST(Substitution, EnvValueIsValidatedAfterSubstitution) {
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui: {port: \"${env:PORT}\"}\n", {{"PORT", "http"}}),
              ElementsAre("c.yaml:2:16: web_ui.port: expected an integer, got \"http\""));
}

TEST(Substitution, SecretFromEnvIsNeverEchoed) {
  // A secret with a bad reference is reported without its value.
  EXPECT_THAT(errors_of("connector: {name: t}\nweb_ui: {auth_token: \"hunter2${env:MISSING}\"}\n"),
              ElementsAre("c.yaml:2:22: web_ui.auth_token: environment variable \"MISSING\" is not set"));
}

// --- files -----------------------------------------------------------------------------------

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("uc_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml"))
                .string();
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadFile, MissingFile) {
  const LoadResult r = make_loader().load_file("/nonexistent/dir/connector.yaml");
  EXPECT_THAT(messages(r), ElementsAre("/nonexistent/dir/connector.yaml:0:0: cannot open the file"));
}

TEST(LoadFile, EmptyFile) {
  const TempFile f("");
  EXPECT_THAT(messages(make_loader().load_file(f.path())), ElementsAre(f.path() + ":1:1: the configuration is empty"));
}

TEST(LoadFile, ReferenceFile) {
  const TempFile f(reference());
  const LoadResult r = make_loader().load_file(f.path());
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
}

TEST(LoadFile, TenMegabytesOfGarbage) {
  std::mt19937 rng(42);
  std::string garbage(10U * 1024U * 1024U, '\0');
  for (char& c : garbage) c = static_cast<char>(1 + rng() % 255);  // no NUL: let the parser see it all
  const TempFile f(garbage);
  const LoadResult r = make_loader().load_file(f.path());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_THAT(r.errors[0].to_string(), ::testing::StartsWith(f.path() + ":"));
  EXPECT_THAT(r.errors[0].message, ::testing::StartsWith("invalid YAML: "));
  EXPECT_FALSE(r.config.has_value());
}

TEST(LoadFile, BinaryFileIsRefusedAtTheFirstNul) {
  const TempFile f(std::string("connector:\n  na\0me: x\n", 22));
  EXPECT_THAT(messages(make_loader().load_file(f.path())),
              ElementsAre(f.path() + ":2:5: invalid YAML: the file contains a NUL byte (is it a text file?)"));
}

TEST(LoadFile, TooLargeFile) {
  const TempFile f(std::string(Loader::kMaxFileBytes + 1, '#'));
  EXPECT_THAT(messages(make_loader().load_file(f.path())),
              ElementsAre(f.path() + ":0:0: the file is too large (16777217 bytes; the limit is 16777216)"));
}

TEST(LoadFile, DeepNesting) {
  EXPECT_THAT(errors_of(std::string(5000, '[')), ElementsAre("c.yaml:1:1: invalid YAML: nesting is too deep"));
}

}  // namespace
}  // namespace uc::config
