// The reader's pieces: messages, suggestions, substitution, syntax checks, and
// the rewrite that accepts ${...} inside flow collections.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "config/checks.h"
#include "config/error.h"
#include "config/flow_references.h"
#include "config/reader.h"
#include "config/substitute.h"
#include "config/yaml_tree.h"

namespace uc::config {
namespace {

TEST(ConfigError, Format) {
  EXPECT_EQ((ConfigError{"a.yaml", 3, 7, "sources[2].registers[0].type", "bad", ""}).to_string(),
            "a.yaml:3:7: sources[2].registers[0].type: bad");
  EXPECT_EQ((ConfigError{"a.yaml", 1, 1, "", "the configuration is empty", ""}).to_string(),
            "a.yaml:1:1: the configuration is empty");
  Errors errors;
  YAML::Mark mark;
  mark.line = 4;
  mark.column = 0;
  errors.add("f", mark, "k", "m");
  errors.add("f", YAML::Mark::null_mark(), "", "n");
  EXPECT_EQ(errors.list()[0].to_string(), "f:5:1: k: m");
  EXPECT_EQ(errors.list()[1].to_string(), "f:0:0: n");
}

TEST(ConfigError, WriteCappedShowsTheFirstErrorsAndCountsTheRest) {
  std::vector<ConfigError> errors;
  for (int i = 1; i <= 250; ++i) errors.push_back({"a.yaml", i, 1, "k", "bad", ""});
  std::ostringstream out;
  write_capped(out, errors, 100);
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 101);
  EXPECT_EQ(text.substr(0, text.find('\n')), "a.yaml:1:1: k: bad");
  EXPECT_NE(text.find("a.yaml:100:1: k: bad\n\u2026 and 150 more\n"), std::string::npos) << text.substr(text.size() - 80);
  EXPECT_EQ(text.find("a.yaml:101:1"), std::string::npos);

  std::ostringstream few;
  write_capped(few, {errors[0], errors[1]}, 100, "note: ");
  EXPECT_EQ(few.str(), "note: a.yaml:1:1: k: bad\nnote: a.yaml:2:1: k: bad\n");
  std::ostringstream exact;
  write_capped(exact, std::vector<ConfigError>(errors.begin(), errors.begin() + 3), 3);
  EXPECT_EQ(exact.str().find("more"), std::string::npos);
  std::ostringstream notes;
  write_capped(notes, std::vector<ConfigError>(errors.begin(), errors.begin() + 4), 3, "note: ");
  EXPECT_NE(notes.str().find("note: \u2026 and 1 more\n"), std::string::npos);
}

TEST(Reader, EditDistanceAndSuggestions) {
  EXPECT_EQ(edit_distance("port", "prot"), 2U);
  EXPECT_EQ(edit_distance("", "abc"), 3U);
  EXPECT_EQ(edit_distance("sinks", "sinkz"), 1U);
  EXPECT_EQ(closest_match("prot", {"host", "port"}), std::optional<std::string>("port"));
  EXPECT_EQ(closest_match("colour", {"host", "port"}), std::nullopt);
}

TEST(Reader, QuoteEscapesAndTruncates) {
  EXPECT_EQ(quote("a\"b\n\x01"), "\"a\\\"b\\n\\x01\"");
  EXPECT_EQ(quote(std::string(100, 'x')), "\"" + std::string(80, 'x') + "...\"");
}

TEST(Reader, IntegersAndNumbers) {
  Errors errors;
  const auto tree = YamlTree::parse("{a: 0x10, b: -5, c: 99999999999999999999, d: 1.5e3, e: nan, f: '12', g: yes}");
  const ReadContext ctx{"f", &errors, nullptr, nullptr, {}, nullptr, tree};
  const Reader root = Reader::root(ctx, tree->document(0));
  EXPECT_EQ(root.get_int("a"), 16);
  EXPECT_EQ(root.get_int("b"), -5);
  EXPECT_EQ(root.get_int("c"), std::nullopt);
  EXPECT_EQ(root.get_double("d"), 1500.0);
  EXPECT_EQ(root.get_double("e"), std::nullopt);
  EXPECT_EQ(root.get_int("f"), 12);
  EXPECT_EQ(root.get_bool("g"), true);
  EXPECT_EQ(root.get_int_or("missing", 7), 7);
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_EQ(errors.list()[0].to_string(), "f:1:21: c: integer out of range, got \"99999999999999999999\"");
  EXPECT_EQ(errors.list()[1].to_string(), "f:1:56: e: expected a number, got \"nan\"");
}

TEST(Substitute, EnvForms) {
  const EnvLookup env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "A") return std::string("1");
    if (n == "B_2") return std::string("two");
    return std::nullopt;
  };
  EXPECT_EQ(substitute_env("${env:A}", env).value(), "1");
  EXPECT_EQ(substitute_env("x${env:A}y${env:B_2}z${env:A}", env).value(), "x1ytwoz1");
  EXPECT_EQ(substitute_env("cost $5 and $${env:A}", env).value(), "cost $5 and ${env:A}");
  EXPECT_EQ(substitute_env("${env:C}", env).status().message(), "environment variable \"C\" is not set");
  EXPECT_EQ(substitute_env("${env:1x}", env).status().message(), "invalid environment variable name \"1x\"");
  EXPECT_EQ(substitute_env("${credential:x}", env).status().message(),
            "credential references are only allowed in secret fields");
  EXPECT_EQ(whole_credential_reference("${credential:api_token}"), std::optional<std::string>("api_token"));
  EXPECT_EQ(whole_credential_reference("x${credential:api_token}"), std::nullopt);
}

TEST(Checks, LoopbackAndCidr) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.10.0.1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("plant-gw"));
  EXPECT_TRUE(is_valid_cidr("192.168.1.0/24"));
  EXPECT_TRUE(is_valid_cidr("0.0.0.0/0"));
  EXPECT_TRUE(is_valid_cidr("fd00::/8"));
  EXPECT_FALSE(is_valid_cidr("192.168.1.0"));
  EXPECT_FALSE(is_valid_cidr("192.168.1.0/"));
  EXPECT_FALSE(is_valid_cidr("192.168.1.0/-1"));
  EXPECT_FALSE(is_valid_cidr("300.1.1.1/8"));
}

TEST(Checks, PathTemplates) {
  EXPECT_EQ(check_path_template("{site}/{area}/{line}/{equipment}/{signal_type}/{tag_name}"), std::nullopt);
  EXPECT_EQ(check_path_template("{protocol}/{source}/raw"), std::nullopt);
  EXPECT_EQ(check_path_template("{site}}"), "unbalanced braces in path template \"{site}}\"");
  EXPECT_EQ(check_path_template("{site{area}}"), "unbalanced braces in path template \"{site{area}}\"");
  EXPECT_EQ(check_path_template("{}"),
            "unknown placeholder \"{}\" in path template; allowed: {site} {area} {line} {equipment} {signal_type} "
            "{tag_name} {source} {protocol}");
}

TEST(FlowReferences, RewritesOnlyWholeValuesInFlowCollections) {
  const auto r = quote_flow_references("a: ${env:X}\nb: {c: ${credential:y}, d: \"${credential:z}\"}\n"
                                       "e: [${env:Q}, x${env:W}]\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->text, "a: ${env:X}\nb: {c: '$credential:y', d: \"${credential:z}\"}\ne: ['$env:Q', x${env:W}]\n");
  EXPECT_EQ(r->positions, (std::set<std::pair<int, int>>{{1, 7}, {2, 4}}));
  EXPECT_EQ(quote_flow_references("a: |\n  {x: ${y}}\n"), std::nullopt);
  EXPECT_EQ(quote_flow_references("a: b # {c: ${d}}\n"), std::nullopt);
}

}  // namespace
}  // namespace uc::config
