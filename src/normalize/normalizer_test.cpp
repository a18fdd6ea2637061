#include "normalize/normalizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "core/record_codec.h"
#include "normalize/sanitize.h"

namespace uc::normalize {
namespace {

constexpr std::string_view kMqttRule = "factory/(?P<line>[^/]+)/(?P<equipment>[^/]+)/(?P<tag_name>.+)";

Options reference_options() {
  Options o;
  o.defaults = {"plant1", "production", "line1", "unknown"};
  o.rules.push_back({"mqtt", "", RuleField::kAddress, std::string(kMqttRule)});
  o.connector_name = "plant1-edge";
  return o;
}

SourceInfo mqtt_source() {
  SourceInfo s;
  s.name = "plant1_mqtt";
  s.protocol = "mqtt";
  s.endpoint = "mqtt://127.0.0.1:1883";
  s.context = {"plant1", "production", "", ""};
  return s;
}

SourceInfo opcua_source() {
  SourceInfo s;
  s.name = "plant1_opcua";
  s.protocol = "opcua";
  s.endpoint = "opc.tcp://127.0.0.1:4840";
  s.context = {"plant1", "production", "line1", ""};
  return s;
}

std::unique_ptr<Normalizer> make(const Options& o, const SourceInfo& s, std::shared_ptr<PathRegistry> reg = nullptr) {
  auto n = Normalizer::create(o, s, std::move(reg));
  EXPECT_TRUE(n.is_ok()) << n.status().to_string();
  return n.is_ok() ? std::move(n).value() : nullptr;
}

Sample sample(std::string address, Value v = 1.0, std::shared_ptr<const TagMeta> meta = nullptr) {
  Sample s;
  s.address = std::move(address);
  s.value = std::move(v);
  s.meta = std::move(meta);
  s.receive_time = 1000;
  return s;
}

std::string meta_value(const KeyValues& kv, std::string_view key) {
  for (const auto& [k, v] : kv) {
    if (k == key) return v;
  }
  return "<absent>";
}

// --- The reference MQTT rule ---

struct TopicCase {
  std::string topic;
  std::string want_path;
  std::string want_line, want_equipment, want_tag_name, want_signal_type;
};

class ReferenceRule : public ::testing::TestWithParam<TopicCase> {};

TEST_P(ReferenceRule, FillsContextFromTopic) {
  const auto& c = GetParam();
  auto n = make(reference_options(), mqtt_source());
  const Record r = n->normalize(sample(c.topic, 21.5), 5000);
  ASSERT_TRUE(r.tag);
  EXPECT_EQ(r.tag->tag_path, c.want_path);
  EXPECT_EQ(r.tag->line, c.want_line);
  EXPECT_EQ(r.tag->equipment, c.want_equipment);
  EXPECT_EQ(r.tag->tag_name, c.want_tag_name);
  EXPECT_EQ(r.tag->signal_type, c.want_signal_type);
  EXPECT_EQ(r.tag->site, "plant1");
  EXPECT_EQ(r.tag->area, "production");
}

INSTANTIATE_TEST_SUITE_P(
    Topics, ReferenceRule,
    ::testing::Values(
        TopicCase{"factory/line2/mixer/temperature", "plant1/production/line2/mixer/temperature/temperature", "line2",
                  "mixer", "temperature", "temperature"},
        TopicCase{"factory/Line 3/Robot-1/conveyor_speed", "plant1/production/line_3/robot-1/speed/conveyor_speed",
                  "Line 3", "Robot-1", "conveyor_speed", "speed"},
        // tag_name captured with '/' stays one segment.
        TopicCase{"factory/l1/press7/hydraulics/oil/pressure", "plant1/production/l1/press7/pressure/hydraulics_oil_pressure",
                  "l1", "press7", "hydraulics/oil/pressure", "pressure"},
        // Not matching: line from defaults (source has none), equipment from defaults, name from the topic.
        TopicCase{"sensors/room1/humidity", "plant1/production/line1/unknown/humidity/humidity", "line1", "unknown",
                  "humidity", "humidity"},
        TopicCase{"factory/only/two", "plant1/production/line1/unknown/value/two", "line1", "unknown", "two", "value"},
        // Sparkplug address: metric name after '#', kept whole.
        TopicCase{"spBv1.0/g1/DDATA/node1/dev1#Motor/Current", "plant1/production/line1/unknown/current/motor_current",
                  "line1", "unknown", "Motor/Current", "current"}));

TEST(Normalizer, RuleForOtherProtocolDoesNotApply) {
  auto n = make(reference_options(), opcua_source());
  const Record r = n->normalize(sample("factory/line9/mixer/temp"), 1);
  EXPECT_EQ(r.tag->line, "line1");  // from the source, not the topic
  EXPECT_EQ(r.tag->equipment, "unknown");
  EXPECT_EQ(r.tag->tag_name, "temp");
}

TEST(Normalizer, RuleRestrictedBySource) {
  Options o = reference_options();
  o.rules[0].source = "other_broker";
  auto n = make(o, mqtt_source());
  EXPECT_EQ(n->normalize(sample("factory/line9/mixer/temp"), 1).tag->line, "line1");
  o.rules[0].source = "plant1_mqtt";
  o.rules[0].protocol = "MQTT";  // protocol compares case-insensitively
  auto m = make(o, mqtt_source());
  EXPECT_EQ(m->normalize(sample("factory/line9/mixer/temp"), 1).tag->line, "line9");
}

TEST(Normalizer, FirstMatchingRuleWins) {
  Options o = reference_options();
  o.rules.insert(o.rules.begin(), Rule{"", "", RuleField::kAddress, "^factory/(?P<line>[^/]+)/special/"});
  auto n = make(o, mqtt_source());
  const Record a = n->normalize(sample("factory/l7/special/x"), 1);
  EXPECT_EQ(a.tag->line, "l7");
  EXPECT_EQ(a.tag->equipment, "unknown");  // the first rule has no equipment group; rules don't merge
  EXPECT_EQ(a.tag->tag_name, "x");
  const Record b = n->normalize(sample("factory/l8/mixer/y"), 1);
  EXPECT_EQ(b.tag->equipment, "mixer");
}

TEST(Normalizer, NamePathRuleUsesTagMeta) {
  Options o;
  o.defaults = {"s", "a", "l", "e"};
  o.rules.push_back({"opcua", "", RuleField::kNamePath, "^Objects/Plant/(?P<area>[^/]+)/(?P<equipment>[^/]+)/"});
  auto n = make(o, opcua_source());
  auto meta = std::make_shared<TagMeta>();
  meta->name_path = "Objects/Plant/Packaging/Filler1/FillLevel";
  const Record r = n->normalize(sample("ns=2;i=1234", 3.0, meta), 1);
  EXPECT_EQ(r.tag->area, "Packaging");
  EXPECT_EQ(r.tag->equipment, "Filler1");
  EXPECT_EQ(r.tag->tag_name, "1234");
  EXPECT_EQ(r.tag->tag_path, "plant1/packaging/line1/filler1/value/1234");
  // No meta → the name-path rule does not match.
  const Record r2 = n->normalize(sample("ns=2;i=99"), 1);
  EXPECT_EQ(r2.tag->area, "production");
}

TEST(Normalizer, ExtraNamedGroupsBecomeMetadataAndUnitGroupFillsUnit) {
  Options o;
  o.rules.push_back({"", "", RuleField::kAddress, "^(?P<cell>c\\d+)/(?P<tag_name>[a-z_]+)_(?P<unit>bar|degC)$"});
  auto n = make(o, mqtt_source());
  const Record r = n->normalize(sample("c12/oil_bar"), 1);
  EXPECT_EQ(meta_value(r.tag->metadata, "cell"), "c12");
  EXPECT_EQ(r.tag->unit, "bar");
  EXPECT_EQ(r.tag->tag_name, "oil");
  EXPECT_EQ(r.tag->signal_type, "pressure");
}

// --- Precedence ---

struct PrecedenceCase {
  std::string label;
  bool with_mapping, with_meta, with_rule, with_source, with_defaults;
  std::string want_line;
};

class Precedence : public ::testing::TestWithParam<PrecedenceCase> {};

TEST_P(Precedence, PicksHighestLayer) {
  const auto& c = GetParam();
  Options o;
  if (c.with_defaults) o.defaults.line = "from_defaults";
  if (c.with_rule) o.rules.push_back({"", "", RuleField::kAddress, "^(?P<line>[^/]+)/(?P<tag_name>.+)$"});
  if (c.with_mapping) {
    TagMapping m;
    m.source = "plant1_mqtt";
    m.address = "from_rule/x";
    m.line = "from_mapping";
    o.mappings.push_back(m);
  }
  SourceInfo src = mqtt_source();
  if (c.with_source) src.context.line = "from_source";
  std::shared_ptr<TagMeta> meta;
  if (c.with_meta) {
    meta = std::make_shared<TagMeta>();
    meta->line = "from_meta";
  }
  auto n = make(o, src);
  EXPECT_EQ(n->normalize(sample("from_rule/x", 1.0, meta), 1).tag->line, c.want_line) << c.label;
}

INSTANTIATE_TEST_SUITE_P(
    Layers, Precedence,
    ::testing::Values(PrecedenceCase{"all", true, true, true, true, true, "from_mapping"},
                      PrecedenceCase{"no mapping", false, true, true, true, true, "from_meta"},
                      PrecedenceCase{"rule", false, false, true, true, true, "from_rule"},
                      PrecedenceCase{"source", false, false, false, true, true, "from_source"},
                      PrecedenceCase{"defaults", false, false, false, false, true, "from_defaults"},
                      PrecedenceCase{"nothing", false, false, false, false, false, ""},
                      PrecedenceCase{"mapping over rule", true, false, true, false, false, "from_mapping"},
                      PrecedenceCase{"meta over source", false, true, false, true, false, "from_meta"}));

TEST(Normalizer, EveryFieldFollowsPrecedence) {
  Options o;
  o.defaults = {"d_site", "d_area", "d_line", "d_eq"};
  o.rules.push_back({"", "", RuleField::kAddress,
                     "^(?P<site>[^/]+)/(?P<area>[^/]+)/(?P<line>[^/]+)/(?P<equipment>[^/]+)/(?P<signal_type>[^/]+)/"
                     "(?P<tag_name>[^/]+)$"});
  TagMapping m;
  m.address = "r_site/r_area/r_line/r_eq/r_sig/r_tag";
  m.tag_name = "m_tag";
  m.unit = "m_unit";
  m.site = "m_site";
  o.mappings.push_back(m);
  SourceInfo src = mqtt_source();
  src.context = {"s_site", "s_area", "s_line", "s_eq"};
  auto meta = std::make_shared<TagMeta>();
  meta->unit = "t_unit";
  meta->area = "t_area";
  meta->signal_type = "t_sig";
  auto n = make(o, src);
  const Record r = n->normalize(sample(m.address, 1.0, meta), 1);
  EXPECT_EQ(r.tag->site, "m_site");
  EXPECT_EQ(r.tag->area, "t_area");
  EXPECT_EQ(r.tag->line, "r_line");
  EXPECT_EQ(r.tag->equipment, "r_eq");
  EXPECT_EQ(r.tag->tag_name, "m_tag");
  EXPECT_EQ(r.tag->signal_type, "t_sig");
  EXPECT_EQ(r.tag->unit, "m_unit");
  EXPECT_EQ(r.tag->tag_path, "m_site/t_area/r_line/r_eq/t_sig/m_tag");
}

TEST(Normalizer, MappingForThisSourceBeatsWildcardMapping) {
  Options o;
  TagMapping any;
  any.address = "a";
  any.tag_name = "wild";
  TagMapping mine = any;
  mine.source = "plant1_mqtt";
  mine.tag_name = "mine";
  TagMapping other = any;
  other.source = "someone_else";
  other.tag_name = "theirs";
  o.mappings = {any, other, mine};
  auto n = make(o, mqtt_source());
  EXPECT_EQ(n->normalize(sample("a"), 1).tag->tag_name, "mine");
  SourceInfo s2 = mqtt_source();
  s2.name = "third";
  auto n2 = make(o, s2);
  EXPECT_EQ(n2->normalize(sample("a"), 1).tag->tag_name, "wild");
}

TEST(Normalizer, SignalTypeInferredFromNameThenUnit) {
  Options o;
  auto n = make(o, opcua_source());
  auto meta = std::make_shared<TagMeta>();
  meta->tag_name = "pv1";
  meta->unit = "bar";
  EXPECT_EQ(n->normalize(sample("ns=2;s=X", 1.0, meta), 1).tag->signal_type, "pressure");
  auto meta2 = std::make_shared<TagMeta>();
  meta2->tag_name = "mixer_speed";
  meta2->unit = "rpm";
  meta2->signal_type = "custom";
  EXPECT_EQ(n->normalize(sample("ns=2;s=Y", 1.0, meta2), 1).tag->signal_type, "custom");
}

struct AddressNameCase {
  std::string address, want;
};
class AddressName : public ::testing::TestWithParam<AddressNameCase> {};
TEST_P(AddressName, LastPart) { EXPECT_EQ(address_tag_name(GetParam().address), GetParam().want); }
INSTANTIATE_TEST_SUITE_P(Cases, AddressName,
                         ::testing::Values(AddressNameCase{"ns=2;s=Line1.Mixer.Speed", "Speed"},
                                           AddressNameCase{"nsu=urn:sim:plant;s=Line1.Mixer.Speed", "Speed"},
                                           AddressNameCase{"factory/l1/m1/temp", "temp"},
                                           AddressNameCase{"factory/l1/m1/temp/", "temp"},
                                           AddressNameCase{"1/holding/40001", "40001"},
                                           AddressNameCase{"spBv1.0/g/DDATA/n/d#Motor/Temp", "Motor/Temp"},
                                           AddressNameCase{"a#", "a"}, AddressNameCase{"plain", "plain"},
                                           AddressNameCase{"ns=2;i=1234", "1234"},
                                           AddressNameCase{"ns=2;s=Speed", "Speed"},
                                           AddressNameCase{"", ""}, AddressNameCase{"///", ""}));

// --- Templates ---

TEST(Normalizer, PerSourceTemplateOverride) {
  Options o = reference_options();
  SourceInfo s = mqtt_source();
  s.path_template = "{source}/{protocol}/{equipment}/{tag_name}";
  auto n = make(o, s);
  EXPECT_EQ(n->normalize(sample("factory/l1/Mixer/Temp"), 1).tag->tag_path, "plant1_mqtt/mqtt/mixer/temp");
  auto d = make(o, mqtt_source());
  EXPECT_EQ(d->normalize(sample("factory/l1/Mixer/Temp"), 1).tag->tag_path,
            "plant1/production/l1/mixer/temperature/temp");
}

TEST(Normalizer, DisabledUsesSourceAndAddress) {
  Options o = reference_options();
  o.enabled = false;
  auto n = make(o, mqtt_source());
  const Record r = n->normalize(sample("factory/Line 2/Mixer/Temp", 1.0), 1);
  EXPECT_EQ(r.tag->tag_path, "plant1_mqtt/factory/line_2/mixer/temp");
  EXPECT_EQ(r.tag->line, "line1");  // rules off: context from source/defaults
  EXPECT_EQ(r.tag->signal_type, "temperature");
  EXPECT_EQ(n->normalize(sample("", 1.0), 1).tag->tag_path, "plant1_mqtt/unknown");
  EXPECT_EQ(n->normalize(sample("ns=2;s=A.B", 1.0), 1).tag->tag_path, "plant1_mqtt/ns_2_s_a_b");
  Sample bad = sample("x", 1.0);
  bad.status.kind = ProtocolStatus::Kind::kTimeout;
  EXPECT_EQ(n->normalize(bad, 1).quality, Quality::kBad);  // quality mapping stays on
}

// --- Errors at creation ---

struct CreateErrorCase {
  std::string label;
  Options options;
  std::string source_template;
  std::vector<std::string> want_substrs;
};

class CreateErrors : public ::testing::TestWithParam<CreateErrorCase> {};

TEST_P(CreateErrors, AreClear) {
  const auto& c = GetParam();
  SourceInfo s = mqtt_source();
  s.path_template = c.source_template;
  auto n = Normalizer::create(c.options, s, nullptr);
  ASSERT_FALSE(n.is_ok()) << c.label;
  EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
  for (const auto& want : c.want_substrs) {
    EXPECT_NE(n.status().message().find(want), std::string::npos) << c.label << ": " << n.status().message();
  }
  if (c.source_template.empty()) {
    EXPECT_FALSE(validate_options(c.options).is_ok()) << c.label;
  }
}

Options with_rule(std::string pattern, std::string protocol = "") {
  Options o;
  o.rules.push_back({std::move(protocol), "", RuleField::kAddress, std::move(pattern)});
  return o;
}

Options with_template(std::string t) {
  Options o;
  o.path_template = std::move(t);
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CreateErrors,
    ::testing::Values(
        CreateErrorCase{"unclosed group", with_rule("factory/(?P<line>[^/]+"), "",
                        {"normalization rule 1", "invalid regular expression", "missing closing parenthesis",
                         "at offset 22"}},
        CreateErrorCase{"bad class", with_rule("a[b"), "", {"missing terminating ]", "offset 3"}},
        CreateErrorCase{"bad group name", with_rule("(?P<1x>a)"), "", {"invalid regular expression"}},
        CreateErrorCase{"nothing to repeat", with_rule("*a"), "", {"quantifier does not follow", "offset 0"}},
        // A rule for another protocol is still config and still checked.
        CreateErrorCase{"other protocol", with_rule("(", "opcua"), "", {"normalization rule 1"}},
        CreateErrorCase{"unknown placeholder", with_template("{site}/{plant}"), "", {"unknown placeholder {plant}"}},
        CreateErrorCase{"unbalanced", with_template("{site}/{area"), "", {"unbalanced '{'"}},
        CreateErrorCase{"stray brace", with_template("{site}}"), "", {"'}' without '{'"}},
        CreateErrorCase{"source override", Options{}, "{source}/{nope}", {"source plant1_mqtt", "{nope}"}}));

TEST(Normalizer, ValidOptionsValidate) { EXPECT_TRUE(validate_options(reference_options()).is_ok()); }

TEST(Normalizer, RegexIsJitCompiledWhereAvailable) {
  auto re = CompiledRegex::compile(kMqttRule);
  ASSERT_TRUE(re.is_ok());
  std::vector<CompiledRegex::Capture> caps;
  ASSERT_TRUE((*re)->match("factory/a/b/c/d", caps));
  ASSERT_EQ(caps.size(), 3U);
  EXPECT_EQ(caps[0].name, "line");
  EXPECT_EQ(caps[1].name, "equipment");
  EXPECT_EQ(caps[2].name, "tag_name");
  EXPECT_EQ(caps[2].value, "c/d");
  EXPECT_FALSE((*re)->match("nope", caps));
  EXPECT_TRUE(caps.empty());
  EXPECT_FALSE((*re)->match("factory/\xFF/b/c", caps));  // invalid UTF-8 → no match, no crash
}

TEST(Normalizer, CatastrophicBacktrackingIsBounded) {
  auto re = CompiledRegex::compile("^(a+)+$");
  ASSERT_TRUE(re.is_ok());
  std::vector<CompiledRegex::Capture> caps;
  EXPECT_FALSE((*re)->match(std::string(40, 'a') + "b", caps));
}

// --- Collisions ---

TEST(Normalizer, CollisionsGetDistinctStableSuffixAndAreCounted) {
  Options o;
  o.defaults = {"p", "a", "l", "e"};
  auto reg = std::make_shared<PathRegistry>();
  SourceInfo src = mqtt_source();
  src.context = {};
  auto n = make(o, src, reg);
  std::vector<Collision> seen;
  n->set_collision_handler([&](const Collision& c) { seen.push_back(c); });

  // "x/Mixer Temp" and "y/MIXER_TEMP" sanitize to the same ".../mixer_temp".
  // (tag names from the address: "Mixer Temp" and "MIXER_TEMP")
  const Record a = n->normalize(sample("x/Mixer Temp"), 1);
  const Record b = n->normalize(sample("y/MIXER_TEMP"), 1);
  EXPECT_EQ(a.tag->tag_path, "p/a/l/e/temperature/mixer_temp");
  const std::string want_b = "p/a/l/e/temperature/mixer_temp_" + hash_suffix(std::string("plant1_mqtt") + '\0' + "y/MIXER_TEMP");
  EXPECT_EQ(b.tag->tag_path, want_b);
  EXPECT_EQ(n->collisions(), 1U);
  EXPECT_EQ(reg->collisions(), 1U);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].wanted_path, a.tag->tag_path);
  EXPECT_EQ(seen[0].assigned_path, want_b);
  EXPECT_EQ(seen[0].address, "y/MIXER_TEMP");
  EXPECT_EQ(seen[0].owner_address, "x/Mixer Temp");
  EXPECT_NE(seen[0].to_string().find("collision"), std::string::npos);

  // Cached: repeated samples neither re-check nor re-count.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(n->normalize(sample("y/MIXER_TEMP"), 1).tag->tag_path, want_b);
    EXPECT_EQ(n->normalize(sample("x/Mixer Temp"), 1).tag->tag_path, a.tag->tag_path);
  }
  EXPECT_EQ(n->collisions(), 1U);

  // A fresh normalizer with the same registry gives the same paths (stable, no new collisions
  // for the owner, the same suffix for the newcomer).
  auto n2 = make(o, src, reg);
  EXPECT_EQ(n2->normalize(sample("x/Mixer Temp"), 1).tag->tag_path, a.tag->tag_path);
  EXPECT_EQ(n2->normalize(sample("y/MIXER_TEMP"), 1).tag->tag_path, want_b);
  EXPECT_EQ(n2->collisions(), 0U);  // a known collision is not reported again
  EXPECT_EQ(reg->collisions(), 1U);
  EXPECT_EQ(seen.size(), 1U);

  // A third colliding address gets its own suffix.
  const Record c = n->normalize(sample("z/mixer temp"), 1);
  EXPECT_NE(c.tag->tag_path, a.tag->tag_path);
  EXPECT_NE(c.tag->tag_path, b.tag->tag_path);
  EXPECT_EQ(n->collisions(), 2U);
}

TEST(CollisionLog, LogsTheFirstFewThenOneSummaryPerBatch) {
  auto col = [](int i) {
    Collision c;
    c.wanted_path = "p/temperature";
    c.assigned_path = "p/temperature_" + std::to_string(i);
    c.source = "ua";
    c.address = "a" + std::to_string(i);
    c.owner_source = "ua";
    c.owner_address = "a0";
    return c;
  };
  CollisionLog log(2);
  EXPECT_EQ(log.summary(), "");  // nothing yet
  EXPECT_EQ(log.add(col(1)), col(1).to_string());
  EXPECT_EQ(log.add(col(2)), col(2).to_string());
  EXPECT_EQ(log.summary(), "");  // all logged in full
  // A batch that finds 1000 more gives no line per tag, one summary line at its end.
  for (int i = 3; i <= 1002; ++i) EXPECT_EQ(log.add(col(i)), "");
  EXPECT_EQ(log.count(), 1002u);
  EXPECT_EQ(log.summary(), "1002 tags share a tag path with another; first: " + col(1).to_string());
  EXPECT_EQ(log.summary(), "");  // nothing new
  EXPECT_EQ(log.add(col(1003)), "");
  EXPECT_EQ(log.summary(), "1003 tags share a tag path with another; first: " + col(1).to_string());
  CollisionLog one(0);
  EXPECT_EQ(one.add(col(1)), "");
  EXPECT_EQ(one.summary(), "1 tag shares a tag path with another; first: " + col(1).to_string());
}

TEST(Normalizer, MovingSamplesGivesTheSameRecordsAsCopying) {
  Options o;
  o.defaults = {"p", "a", "l", "e"};
  auto n = make(o, mqtt_source(), nullptr);
  SampleBatch batch;
  for (int i = 0; i < 3; ++i) {
    Sample s = sample("x/t" + std::to_string(i), 1.5 * i);
    s.metadata = {{"opcua_server_time_us", "1700000000000000"}, {"k", std::to_string(i)}};
    s.status = {ProtocolStatus::Kind::kOpcUa, i == 2 ? 0x80000000u : 0u, ""};
    batch.push_back(std::move(s));
  }
  std::vector<Record> copied, moved;
  n->normalize_batch(batch, 7, copied);
  n->normalize_batch(std::move(batch), 7, moved);
  ASSERT_EQ(copied.size(), 3u);
  ASSERT_EQ(moved.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    std::string a, b;
    append_record_json(a, copied[i]);
    append_record_json(b, moved[i]);
    EXPECT_EQ(a, b);
    EXPECT_EQ(moved[i].metadata[1].second, std::to_string(i));
  }
  EXPECT_EQ(moved[2].quality, Quality::kBad);
}

TEST(Normalizer, CollisionsAcrossSourcesShareTheRegistry) {
  Options o;
  o.defaults = {"p", "a", "l", "e"};
  o.path_template = "{site}/{tag_name}";
  auto reg = std::make_shared<PathRegistry>();
  SourceInfo ms = mqtt_source();
  SourceInfo us = opcua_source();
  ms.context = us.context = {};
  auto m = make(o, ms, reg);
  auto u = make(o, us, reg);
  const Record a = m->normalize(sample("t/speed"), 1);
  const Record b = u->normalize(sample("ns=2;s=Speed"), 1);
  EXPECT_EQ(a.tag->tag_path, "p/speed");
  EXPECT_EQ(b.tag->tag_path, "p/speed_" + hash_suffix(std::string("plant1_opcua") + '\0' + "ns=2;s=Speed"));
  EXPECT_EQ(m->collisions(), 0U);
  EXPECT_EQ(u->collisions(), 1U);
  EXPECT_EQ(reg->size(), 2U);
}

TEST(PathRegistry, SuffixTakenFallsBackToCounter) {
  PathRegistry reg;
  const std::string key_b = std::string("s") + '\0' + "b";
  EXPECT_EQ(reg.claim("p", "s", "a").path, "p");
  // Someone else already owns the suffixed path b would get.
  EXPECT_EQ(reg.claim("p_" + hash_suffix(key_b), "s", "c").path, "p_" + hash_suffix(key_b));
  const auto claim = reg.claim("p", "s", "b");
  EXPECT_TRUE(claim.collided);
  EXPECT_EQ(claim.path, "p_" + hash_suffix(key_b) + "_2");
  EXPECT_TRUE(claim.first_time);
  const auto again = reg.claim("p", "s", "b");
  EXPECT_EQ(again.path, claim.path);  // stable on re-claim
  EXPECT_TRUE(again.collided);
  EXPECT_FALSE(again.first_time);
  EXPECT_EQ(reg.collisions(), 1U);
}

TEST(PathRegistry, FullRegistryStopsChecking) {
  PathRegistry reg(2);
  EXPECT_EQ(reg.claim("a", "s", "1").path, "a");
  EXPECT_EQ(reg.claim("b", "s", "2").path, "b");
  EXPECT_EQ(reg.claim("c", "s", "3").path, "c");
  EXPECT_EQ(reg.unchecked(), 1U);
  EXPECT_EQ(reg.size(), 2U);
}

TEST(PathRegistry, ThreadSafe) {
  auto reg = std::make_shared<PathRegistry>();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([reg, t] {
      for (int i = 0; i < 1000; ++i) reg->claim("path" + std::to_string(i), "src" + std::to_string(t), "a");
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(reg->collisions(), 3000U);  // every path: one owner, three newcomers
  EXPECT_EQ(reg->size(), 4000U);
}

// --- Cache ---

TEST(Normalizer, CacheFlushDoesNotRecountCollisions) {
  Options o;
  o.max_cached_tags = 2;
  o.path_template = "{tag_name}";
  auto n = make(o, mqtt_source());
  int reported = 0;
  n->set_collision_handler([&](const Collision&) { ++reported; });
  std::vector<std::string> first;
  for (int round = 0; round < 3; ++round) {
    for (const char* a : {"a/Temp", "b/temp", "c/TEMP"}) {
      const std::string path = n->normalize(sample(a), 1).tag->tag_path;
      if (round == 0) {
        first.push_back(path);
      } else {
        EXPECT_EQ(path, first[static_cast<std::size_t>(a[0] - 'a')]);
      }
    }
  }
  EXPECT_GE(n->cache_flushes(), 2U);
  EXPECT_EQ(n->collisions(), 2U);
  EXPECT_EQ(reported, 2);
}

TEST(Normalizer, CacheIsBoundedAndFlushKeepsPaths) {
  Options o;
  o.max_cached_tags = 3;
  auto n = make(o, mqtt_source());
  std::vector<std::string> first;
  for (int i = 0; i < 5; ++i) first.push_back(n->normalize(sample("t/" + std::to_string(i)), 1).tag->tag_path);
  EXPECT_LE(n->cache_size(), 3U);
  EXPECT_EQ(n->cache_flushes(), 1U);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(n->normalize(sample("t/" + std::to_string(i)), 1).tag->tag_path, first[static_cast<std::size_t>(i)]);
  EXPECT_EQ(n->collisions(), 0U);
}

TEST(Normalizer, TagInfoIsInternedPerAddress) {
  auto n = make(reference_options(), mqtt_source());
  const Record a = n->normalize(sample("factory/l/e/t", 1.0), 1);
  const Record b = n->normalize(sample("factory/l/e/t", 2.0), 2);
  EXPECT_EQ(a.tag.get(), b.tag.get());
  EXPECT_EQ(n->cache_size(), 1U);
}

TEST(Normalizer, NewMetaObjectRebuildsTheTag) {
  auto n = make(Options{}, opcua_source());
  auto m1 = std::make_shared<TagMeta>();
  m1->tag_name = "first";
  auto m2 = std::make_shared<TagMeta>();
  m2->tag_name = "second";
  EXPECT_EQ(n->normalize(sample("ns=1;i=1", 1.0, m1), 1).tag->tag_name, "first");
  EXPECT_EQ(n->normalize(sample("ns=1;i=1", 1.0, m2), 1).tag->tag_name, "second");
  EXPECT_EQ(n->cache_size(), 1U);
}

// --- Record fields ---

TEST(Normalizer, TagInfoAndMetadata) {
  auto meta = std::make_shared<TagMeta>();
  meta->tag_name = "mixer_speed";
  meta->unit = "rpm";
  meta->description = "Mixer speed";
  meta->data_type = "Double";
  meta->metadata = {{"node_class", "Variable"}};
  auto n = make(reference_options(), opcua_source());
  Sample s = sample("nsu=urn:sim:plant;s=Line1.Mixer.Speed", 12.5, meta);
  s.metadata = {{"seq", "7"}};
  s.source_time = 900;
  const Record r = n->normalize(s, 5000);
  EXPECT_EQ(r.event_time, 900);
  EXPECT_EQ(r.ingest_time, 5000);
  EXPECT_EQ(r.tag->source_name, "plant1_opcua");
  EXPECT_EQ(r.tag->protocol, "opcua");
  EXPECT_EQ(r.tag->endpoint, "opc.tcp://127.0.0.1:4840");
  EXPECT_EQ(r.tag->address, "nsu=urn:sim:plant;s=Line1.Mixer.Speed");
  EXPECT_EQ(r.tag->tag_path, "plant1/production/line1/unknown/speed/mixer_speed");
  EXPECT_EQ(r.tag->unit, "rpm");
  EXPECT_EQ(meta_value(r.tag->metadata, "node_class"), "Variable");
  EXPECT_EQ(meta_value(r.tag->metadata, "description"), "Mixer speed");
  EXPECT_EQ(meta_value(r.tag->metadata, "data_type"), "Double");
  EXPECT_EQ(meta_value(r.tag->metadata, "connector"), "plant1-edge");
  EXPECT_EQ(r.metadata, (KeyValues{{"seq", "7"}}));
  EXPECT_EQ(r.quality, Quality::kGood);
  EXPECT_EQ(r.status_code, 0);

  Sample no_time = sample("nsu=urn:sim:plant;s=Line1.Mixer.Speed", 1.0, meta);
  no_time.receive_time = 1234;
  EXPECT_EQ(n->normalize(no_time, 1).event_time, 1234);

  Options plain;
  auto p = make(plain, opcua_source());
  const Record q = p->normalize(sample("x"), 1);
  EXPECT_EQ(meta_value(q.tag->metadata, "connector"), "<absent>");
  EXPECT_TRUE(q.tag->metadata.empty());
}

struct ValueCase {
  std::string label;
  Value value;
  ValueKind want_kind;
  std::optional<double> want_num;  // NaN compared with isnan
  std::optional<bool> want_bool;
  std::string want_str;
};

class Values : public ::testing::TestWithParam<ValueCase> {};

TEST_P(Values, Converts) {
  const auto& c = GetParam();
  auto n = make(Options{}, mqtt_source());
  const Record r = n->normalize(sample("v", c.value), 1);
  EXPECT_EQ(r.value_type, c.want_kind) << c.label;
  ASSERT_EQ(r.value_num.has_value(), c.want_num.has_value()) << c.label;
  if (c.want_num) {
    if (std::isnan(*c.want_num)) {
      EXPECT_TRUE(std::isnan(*r.value_num)) << c.label;
    } else {
      EXPECT_EQ(*r.value_num, *c.want_num) << c.label;
    }
  }
  EXPECT_EQ(r.value_bool, c.want_bool) << c.label;
  EXPECT_EQ(r.value_str, c.want_str) << c.label;
  EXPECT_EQ(r.quality, Quality::kGood) << c.label;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

INSTANTIATE_TEST_SUITE_P(
    Kinds, Values,
    ::testing::Values(
        ValueCase{"null", Value{}, ValueKind::kNull, std::nullopt, std::nullopt, ""},
        ValueCase{"true", Value{true}, ValueKind::kBool, 1.0, true, "true"},
        ValueCase{"false", Value{false}, ValueKind::kBool, 0.0, false, "false"},
        ValueCase{"int", Value{std::int64_t{-42}}, ValueKind::kInt, -42.0, std::nullopt, "-42"},
        ValueCase{"int min", Value{std::numeric_limits<std::int64_t>::min()}, ValueKind::kInt, -9223372036854775808.0,
                  std::nullopt, "-9223372036854775808"},
        ValueCase{"int max", Value{std::numeric_limits<std::int64_t>::max()}, ValueKind::kInt, 9223372036854775807.0,
                  std::nullopt, "9223372036854775807"},
        ValueCase{"uint max", Value{std::numeric_limits<std::uint64_t>::max()}, ValueKind::kUInt,
                  18446744073709551615.0, std::nullopt, "18446744073709551615"},
        ValueCase{"double", Value{21.5}, ValueKind::kDouble, 21.5, std::nullopt, "21.5"},
        ValueCase{"nan", Value{kNaN}, ValueKind::kDouble, kNaN, std::nullopt, "NaN"},
        ValueCase{"string", Value{std::string("RUNNING")}, ValueKind::kString, std::nullopt, std::nullopt, "RUNNING"},
        ValueCase{"empty string", Value{std::string()}, ValueKind::kString, std::nullopt, std::nullopt, ""},
        ValueCase{"numeric string", Value{std::string("12")}, ValueKind::kString, std::nullopt, std::nullopt, "12"},
        ValueCase{"bytes", Value{Bytes{{0x01, 0x02, 0xFF}}}, ValueKind::kBytes, std::nullopt, std::nullopt, "AQL/"},
        ValueCase{"array", Value{Array{{Scalar{std::int64_t{1}}, Scalar{2.5}, Scalar{true}}}}, ValueKind::kArray,
                  std::nullopt, std::nullopt, value_to_text(Value{Array{{Scalar{std::int64_t{1}}, Scalar{2.5}, Scalar{true}}}})}),
    [](const ::testing::TestParamInfo<ValueCase>& param_info) {
      std::string s;
      for (char c : param_info.param.label) s.push_back(c == ' ' ? '_' : c);
      return s;
    });

// --- Quality and engineering range ---

struct RangeCase {
  std::string label;
  Value value;
  std::optional<double> meta_low, meta_high, map_low, map_high;
  ProtocolStatus::Kind status = ProtocolStatus::Kind::kNone;
  Quality want;
  std::int64_t want_code;
};

class EngineeringRange : public ::testing::TestWithParam<RangeCase> {};

TEST_P(EngineeringRange, MarksOutOfRangeUncertain) {
  const auto& c = GetParam();
  Options o;
  if (c.map_low || c.map_high) {
    TagMapping m;
    m.address = "tank/level";
    m.eng_low = c.map_low;
    m.eng_high = c.map_high;
    o.mappings.push_back(m);
  }
  auto meta = std::make_shared<TagMeta>();
  meta->eng_low = c.meta_low;
  meta->eng_high = c.meta_high;
  auto n = make(o, mqtt_source());
  Sample s = sample("tank/level", c.value, meta);
  s.status.kind = c.status;
  const Record r = n->normalize(s, 1);
  EXPECT_EQ(r.quality, c.want) << c.label;
  EXPECT_EQ(r.status_code, c.want_code) << c.label;
  if (c.want != Quality::kGood) {
    EXPECT_NE(meta_value(r.metadata, "quality_reason"), "<absent>") << c.label;
  } else {
    EXPECT_EQ(meta_value(r.metadata, "quality_reason"), "<absent>") << c.label;
  }
}

constexpr std::int64_t kEu = 0x40940000;
constexpr std::int64_t kBadTimeout = 0x800A0000;

INSTANTIATE_TEST_SUITE_P(
    Cases, EngineeringRange,
    ::testing::Values(
        RangeCase{"inside", Value{50.0}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kGood, 0},
        RangeCase{"at low", Value{0.0}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kGood, 0},
        RangeCase{"at high", Value{100.0}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kGood, 0},
        RangeCase{"above", Value{100.5}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kUncertain, kEu},
        RangeCase{"below", Value{-0.1}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kUncertain, kEu},
        RangeCase{"int above", Value{std::int64_t{101}}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone,
                  Quality::kUncertain, kEu},
        RangeCase{"uint above", Value{std::uint64_t{101}}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone,
                  Quality::kUncertain, kEu},
        RangeCase{"only high", Value{-1e9}, {}, 100.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kGood, 0},
        RangeCase{"only low", Value{-1.0}, 0.0, {}, {}, {}, ProtocolStatus::Kind::kNone, Quality::kUncertain, kEu},
        RangeCase{"no range", Value{1e300}, {}, {}, {}, {}, ProtocolStatus::Kind::kNone, Quality::kGood, 0},
        RangeCase{"nan not judged", Value{kNaN}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kGood, 0},
        RangeCase{"bool not judged", Value{true}, 5.0, 10.0, {}, {}, ProtocolStatus::Kind::kNone, Quality::kGood, 0},
        RangeCase{"string not judged", Value{std::string("500")}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kNone,
                  Quality::kGood, 0},
        RangeCase{"bad stays bad", Value{500.0}, 0.0, 100.0, {}, {}, ProtocolStatus::Kind::kTimeout, Quality::kBad,
                  kBadTimeout},
        RangeCase{"mapping overrides meta", Value{150.0}, 0.0, 100.0, 0.0, 200.0, ProtocolStatus::Kind::kNone,
                  Quality::kGood, 0},
        RangeCase{"mapping bound alone", Value{150.0}, 0.0, 100.0, {}, 120.0, ProtocolStatus::Kind::kNone,
                  Quality::kUncertain, kEu},
        RangeCase{"mapping high, meta low", Value{-5.0}, 0.0, {}, {}, 120.0, ProtocolStatus::Kind::kNone,
                  Quality::kUncertain, kEu}));

TEST(Normalizer, RangeReasonText) {
  auto meta = std::make_shared<TagMeta>();
  meta->eng_low = 0;
  meta->eng_high = 100;
  auto n = make(Options{}, mqtt_source());
  const Record r = n->normalize(sample("x", 120.5, meta), 1);
  EXPECT_EQ(meta_value(r.metadata, "quality_reason"), "value 120.5 outside engineering range [0, 100]");
}

TEST(Normalizer, BadQualityReasonGoesToRecordMetadata) {
  auto n = make(Options{}, mqtt_source());
  Sample s = sample("x", Value{});
  s.status.kind = ProtocolStatus::Kind::kModbusException;
  s.status.code = 2;
  s.metadata = {{"seq", "1"}};
  const Record r = n->normalize(s, 1);
  EXPECT_EQ(r.quality, Quality::kBad);
  EXPECT_EQ(r.status_code, 0x80890000);
  EXPECT_EQ(r.metadata,
            (KeyValues{{"seq", "1"}, {"quality_reason", "modbus exception 2 (illegal data address)"}}));
}

TEST(Normalizer, BatchAppends) {
  auto n = make(reference_options(), mqtt_source());
  SampleBatch batch;
  for (int i = 0; i < 100; ++i) batch.push_back(sample("factory/l1/m" + std::to_string(i % 10) + "/temp", double(i)));
  std::vector<Record> out;
  out.emplace_back();
  n->normalize_batch(batch, 77, out);
  ASSERT_EQ(out.size(), 101U);
  EXPECT_EQ(out[1].ingest_time, 77);
  EXPECT_EQ(out[100].value_num, 99.0);
  EXPECT_EQ(out[11].tag.get(), out[1].tag.get());
  EXPECT_EQ(n->cache_size(), 10U);
}

}  // namespace
}  // namespace uc::normalize
