// One source entry on its own (Loader::load_source, the API's bodies): the same checks and
// messages as inside a file, key paths relative to the entry; the entry's document with its
// secrets masked (source_document).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/source_document.h"
#include "config/test_support.h"

namespace uc::config {
namespace {

using ::testing::ElementsAre;
using testing::make_loader;

std::vector<std::string> entry_errors(const std::string& text) {
  std::vector<std::string> out;
  for (const ConfigError& e : make_loader().load_source(text, "body").errors) {
    out.push_back(json_pointer(e) + ": " + e.message);
  }
  return out;
}

// The message of a key inside a file, without its position.
std::string file_message(const std::string& entry_yaml, const std::string& key_path) {
  const auto r = make_loader().load_string("connector: {name: t}\nsources:\n" + entry_yaml, "c.yaml");
  for (const ConfigError& e : r.errors) {
    if (e.key_path == key_path) return e.message;
  }
  return "(no error at " + key_path + ")";
}

TEST(SourceEntry, LoadsAJsonBody) {
  const auto r = make_loader().load_source(
      R"({"name": "gen", "protocol": "synthetic", "interval_ms": 50, "tags": [{"name": "n", "generator": "counter"}]})",
      "body");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(r.errors.size());
  EXPECT_EQ(r.source->name, "gen");
  EXPECT_EQ(r.source->protocol, "synthetic");
  EXPECT_NE(r.source->options, nullptr);
  EXPECT_EQ(source_document(*r.source),
            (nlohmann::json{{"name", "gen"},
                            {"protocol", "synthetic"},
                            {"interval_ms", 50},
                            {"tags", {{{"name", "n"}, {"generator", "counter"}}}}}));
}

TEST(SourceEntry, ErrorsHaveTheFileMessagesAndRelativePaths) {
  const std::string body = R"({"name": "m", "protocol": "modbus", "endpoint": "modbus://10.0.0.7", "prot": 1,
                               "registers": [{"name": "a", "table": "coil", "address": 0, "type": "float32"}]})";
  EXPECT_THAT(entry_errors(body),
              ElementsAre("/prot: unknown key \"prot\"",
                          "/registers/0/type: type float32 is not allowed in table coil; coils and discrete inputs "
                          "hold single bits (type bool)"));
  EXPECT_EQ(file_message("  - {name: m, protocol: modbus, endpoint: modbus://10.0.0.7, prot: 1}\n", "sources[0]"),
            "unknown key \"prot\"");
}

TEST(SourceEntry, WrongTypesAndMissingKeys) {
  EXPECT_THAT(entry_errors(R"({"name": "g", "protocol": "synthetic", "interval_ms": "often"})"),
              ElementsAre("/interval_ms: expected an integer, got \"often\""));
  EXPECT_THAT(entry_errors(R"({"protocol": "synthetic"})"), ElementsAre("/name: missing required key \"name\""));
  EXPECT_THAT(entry_errors(R"({"name": "g", "protocol": "synthetic", "name": "h"})"),
              ElementsAre("/name: duplicate key \"name\""));
  EXPECT_THAT(entry_errors(R"({"name": "g", "protocol": "carrier-pigeon"})").at(0),
              ::testing::StartsWith("/protocol: unknown protocol \"carrier-pigeon\""));
  EXPECT_THAT(entry_errors("[1, 2]"), ElementsAre(": expected a map at the top level, got a list"));
  EXPECT_THAT(entry_errors(""), ElementsAre(": the source is empty"));
}

TEST(SourceEntry, SecretsAreMaskedInTheDocument) {
  const auto r = make_loader().load_source(
      R"({"name": "b", "protocol": "mqtt", "endpoint": "mqtt://127.0.0.1:1883", "username": "u",
          "password": "hunter2", "topics": ["a/#"]})",
      "body");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_THAT(r.source->secret_keys, ElementsAre("password", "username"));
  const nlohmann::json doc = source_document(*r.source);
  EXPECT_EQ(doc["password"], "***");
  EXPECT_EQ(doc["username"], "***");
  EXPECT_EQ(doc.dump().find("hunter2"), std::string::npos);
}

TEST(SourceEntry, FileSourcesKeepTheirDocumentToo) {
  const auto r = make_loader().load_string(
      "connector: {name: t}\nsources:\n  - name: g\n    protocol: synthetic\n    seed: \"7\"\n    interval_ms: 10\n"
      "    tags: [{name: a, generator: sine}]\n",
      "c.yaml");
  ASSERT_TRUE(r.ok());
  const nlohmann::json doc = source_document(r.config->sources.at(0));
  EXPECT_EQ(doc["seed"], "7");  // quoted: stays a string
  EXPECT_EQ(doc["interval_ms"], 10);
}

// Each source's secret keys are its own: sources[1]'s are not sources[10]'s, whose path
// starts with the same characters.
TEST(SourceEntry, EverySourceOfAFileHasOnlyItsOwnSecretKeys) {
  std::string yaml = "connector: {name: t}\nsources:\n";
  for (int i = 0; i < 12; ++i) {
    yaml += "  - {name: m" + std::to_string(i) + ", protocol: mqtt, endpoint: \"mqtt://127.0.0.1:1883\", topics: [a]" +
            (i == 10 ? ", username: u, password: p" : "") + "}\n";
  }
  const auto r = make_loader().load_string(yaml, "c.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_THAT(r.config->sources.at(1).secret_keys, ::testing::IsEmpty());
  EXPECT_THAT(r.config->sources.at(10).secret_keys, ElementsAre("password", "username"));
  EXPECT_EQ(source_document(r.config->sources.at(10))["password"], "***");
  EXPECT_EQ(source_document(r.config->sources.at(11))["name"], "m11");
}

TEST(JsonPointer, FromKeyPaths) {
  EXPECT_EQ(json_pointer(""), "");
  EXPECT_EQ(json_pointer("port"), "/port");
  EXPECT_EQ(json_pointer("tags[0].generator"), "/tags/0/generator");
  EXPECT_EQ(json_pointer("a[1][2]"), "/a/1/2");
  EXPECT_EQ(json_pointer("x/y~z"), "/x~1y~0z");
}

}  // namespace
}  // namespace uc::config
