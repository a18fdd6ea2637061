// The hand-written encoders are checked against the protoc-generated parser and
// against nlohmann's JSON parser, so the schema file stays the single source.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/record_codec.h"
#include "record.pb.h"

namespace uc {
namespace {

Record sample_record() {
  auto tag = std::make_shared<TagInfo>();
  tag->source_name = "plant1_modbus";
  tag->protocol = "modbus";
  tag->endpoint = "modbus://127.0.0.1:5020";
  tag->tag_path = "plant1/production/line1/tank/level/tank_level";
  tag->tag_name = "tank_level";
  tag->address = "1/holding/0";
  tag->site = "plant1";
  tag->area = "production";
  tag->line = "line1";
  tag->equipment = "tank";
  tag->signal_type = "level";
  tag->unit = "m";
  tag->metadata = {{"connector", "edge1"}};
  Record r;
  r.event_time = 1'700'000'000'123'456;
  r.ingest_time = 1'700'000'000'223'456;
  r.tag = tag;
  r.value_type = ValueKind::kDouble;
  r.value_num = 2.5;
  r.value_str = "2.5";
  r.quality = Quality::kUncertain;
  r.status_code = 0x40940000;
  r.metadata = {{"seq", "17"}};
  return r;
}

TEST(RecordProto, ParsesWithGeneratedCode) {
  Record r = sample_record();
  std::string wire;
  append_record_proto(wire, r);
  unified_connector::v1::OtRecord m;
  ASSERT_TRUE(m.ParseFromString(wire));
  EXPECT_EQ(m.event_time(), r.event_time);
  EXPECT_EQ(m.ingest_time(), r.ingest_time);
  EXPECT_EQ(m.source_name(), "plant1_modbus");
  EXPECT_EQ(m.protocol(), "modbus");
  EXPECT_EQ(m.endpoint(), "modbus://127.0.0.1:5020");
  EXPECT_EQ(m.tag_path(), "plant1/production/line1/tank/level/tank_level");
  EXPECT_EQ(m.tag_name(), "tank_level");
  EXPECT_EQ(m.address(), "1/holding/0");
  EXPECT_EQ(m.site(), "plant1");
  EXPECT_EQ(m.area(), "production");
  EXPECT_EQ(m.line(), "line1");
  EXPECT_EQ(m.equipment(), "tank");
  EXPECT_EQ(m.signal_type(), "level");
  EXPECT_EQ(m.value_type(), "double");
  ASSERT_TRUE(m.has_value_num());
  EXPECT_EQ(m.value_num(), 2.5);
  EXPECT_EQ(m.value_str(), "2.5");
  EXPECT_FALSE(m.has_value_bool());
  EXPECT_EQ(m.quality(), "uncertain");
  EXPECT_EQ(m.status_code(), 0x40940000);
  EXPECT_EQ(m.unit(), "m");
  ASSERT_EQ(m.metadata_size(), 2);
  EXPECT_EQ(m.metadata().at("connector"), "edge1");
  EXPECT_EQ(m.metadata().at("seq"), "17");
}

TEST(RecordProto, BoolNegativeAndLongStrings) {
  Record r = sample_record();
  r.value_type = ValueKind::kBool;
  r.value_num = 1.0;
  r.value_bool = true;
  r.status_code = -1;
  r.event_time = -5;
  auto tag = std::make_shared<TagInfo>(*r.tag);
  tag->tag_name.assign(1000, 'x');
  r.tag = tag;
  std::string wire;
  append_record_proto(wire, r);
  unified_connector::v1::OtRecord m;
  ASSERT_TRUE(m.ParseFromString(wire));
  EXPECT_TRUE(m.value_bool());
  EXPECT_EQ(m.status_code(), -1);
  EXPECT_EQ(m.event_time(), -5);
  EXPECT_EQ(m.tag_name().size(), 1000u);
}

TEST(RecordJson, KeysAreExactlyTheColumns) {
  Record r = sample_record();
  std::string line;
  append_record_json(line, r);
  auto j = nlohmann::json::parse(line);
  const char* columns[] = {"event_time", "ingest_time", "source_name", "protocol",  "endpoint",  "tag_path",
                           "tag_name",   "address",     "site",        "area",      "line",      "equipment",
                           "signal_type", "value_type", "value_num",   "value_str", "value_bool", "quality",
                           "status_code", "unit",       "metadata"};
  EXPECT_EQ(j.size(), std::size(columns));
  for (const char* c : columns) EXPECT_TRUE(j.contains(c)) << c;
  EXPECT_EQ(j["value_num"], 2.5);
  EXPECT_TRUE(j["value_bool"].is_null());
  EXPECT_EQ(j["metadata"]["seq"], "17");
  EXPECT_EQ(j["event_time"], 1'700'000'000'123'456);
}

TEST(RecordJson, NonFiniteNumbersAndBadUtf8StayValidJson) {
  Record r = sample_record();
  r.value_num = std::numeric_limits<double>::quiet_NaN();
  r.value_str = std::string("bad\xff\xfe utf8 \x01 \"quoted\" \xe2\x82\xac");
  std::string line;
  append_record_json(line, r);
  auto j = nlohmann::json::parse(line);  // throws on invalid UTF-8 or JSON
  EXPECT_TRUE(j["value_num"].is_null());
  EXPECT_EQ(j["value_str"], "bad\xEF\xBF\xBD\xEF\xBF\xBD utf8 \x01 \"quoted\" \xe2\x82\xac");
}

TEST(RecordJson, TruncatedUtf8AtEndIsReplaced) {
  for (std::string s : {std::string("\xe2\x82"), std::string("\xf0\x9f\x98"), std::string("\xc0\xaf"),
                        std::string("\xed\xa0\x80")}) {
    std::string out;
    append_json_string(out, s);
    EXPECT_TRUE(nlohmann::json::accept(out)) << out;
  }
}

}  // namespace
}  // namespace uc

namespace uc {
namespace {

TEST(RecordDecoder, RoundTripsEveryField) {
  Record r = sample_record();
  r.value_bool = false;
  std::string wire;
  append_record_proto(wire, r);
  RecordDecoder dec;
  Record back;
  ASSERT_TRUE(dec.decode(wire, back).is_ok());
  std::string again;
  append_record_proto(again, back);
  EXPECT_EQ(again, wire);
  EXPECT_EQ(back.tag->tag_path, r.tag->tag_path);
  EXPECT_EQ(back.value_bool, std::optional<bool>(false));
  EXPECT_EQ(back.quality, Quality::kUncertain);
  EXPECT_EQ(back.value_type, ValueKind::kDouble);
  // Tag strings are interned across records.
  Record back2;
  ASSERT_TRUE(dec.decode(wire, back2).is_ok());
  EXPECT_EQ(back.tag.get(), back2.tag.get());
}

TEST(RecordDecoder, InternsPerDistinctTagAndOwnsItsStrings) {
  // The decoder keeps views into the wire while decoding: what it returns must not.
  RecordDecoder dec;
  Record a, b, c;
  {
    Record r = sample_record();
    std::string wire;
    append_record_proto(wire, r);
    ASSERT_TRUE(dec.decode(wire, a).is_ok());
    auto other_unit = std::make_shared<TagInfo>(*r.tag);
    other_unit->unit = "mm";  // the only difference: the last key field
    r.tag = other_unit;
    wire.clear();
    append_record_proto(wire, r);
    ASSERT_TRUE(dec.decode(wire, b).is_ok());
    auto shifted = std::make_shared<TagInfo>(*sample_record().tag);
    shifted->area = "productionline1";  // "production" + "line1" moved between fields
    shifted->line = "";
    r.tag = shifted;
    wire.assign(wire.size(), 'x');  // the old bytes are gone
    wire.clear();
    append_record_proto(wire, r);
    ASSERT_TRUE(dec.decode(wire, c).is_ok());
    wire.assign(400, 'x');
  }
  EXPECT_NE(a.tag.get(), b.tag.get());
  EXPECT_NE(a.tag.get(), c.tag.get());
  EXPECT_EQ(a.tag->unit, "m");
  EXPECT_EQ(b.tag->unit, "mm");
  EXPECT_EQ(a.tag->tag_path, "plant1/production/line1/tank/level/tank_level");
  EXPECT_EQ(c.tag->area, "productionline1");
  EXPECT_EQ(c.tag->line, "");
  // Tag metadata then record metadata, in order, all owned by the record.
  ASSERT_EQ(a.metadata.size(), 2u);
  EXPECT_EQ(a.metadata[0], (std::pair<std::string, std::string>{"connector", "edge1"}));
  EXPECT_EQ(a.metadata[1], (std::pair<std::string, std::string>{"seq", "17"}));
  // A decode into a record that held another one leaves nothing of the old.
  std::string wire;
  Record plain;
  plain.value_str = "x";
  append_record_proto(wire, plain);
  ASSERT_TRUE(dec.decode(wire, a).is_ok());
  EXPECT_TRUE(a.metadata.empty());
  EXPECT_EQ(a.tag->tag_path, "");
  EXPECT_EQ(a.value_str, "x");
  EXPECT_FALSE(a.value_num.has_value());
  EXPECT_EQ(a.quality, Quality::kGood);
  EXPECT_EQ(a.status_code, 0);
  EXPECT_EQ(a.event_time, 0);
  // And back: a recycled record decodes to exactly what a fresh one does.
  Record fresh;
  std::string full;
  append_record_proto(full, sample_record());
  ASSERT_TRUE(dec.decode(full, a).is_ok());
  ASSERT_TRUE(RecordDecoder().decode(full, fresh).is_ok());
  std::string ja, jf;
  append_record_json(ja, a);
  append_record_json(jf, fresh);
  EXPECT_EQ(ja, jf);
}

TEST(RecordDecoder, AcceptsWhatProtobufWrites) {
  unified_connector::v1::OtRecord m;
  m.set_tag_path("a/b");
  m.set_value_num(-0.5);
  m.set_value_type("double");
  m.set_quality("bad");
  (*m.mutable_metadata())["k"] = "v";
  std::string wire = m.SerializeAsString();
  RecordDecoder dec;
  Record r;
  ASSERT_TRUE(dec.decode(wire, r).is_ok());
  EXPECT_EQ(r.tag->tag_path, "a/b");
  EXPECT_EQ(r.value_num, -0.5);
  EXPECT_EQ(r.quality, Quality::kBad);
  ASSERT_EQ(r.metadata.size(), 1u);
  EXPECT_EQ(r.metadata[0], (std::pair<std::string, std::string>{"k", "v"}));
}

TEST(RecordDecoder, RejectsEveryTruncationAndGarbage) {
  std::string wire;
  append_record_proto(wire, sample_record());
  RecordDecoder dec;
  Record r;
  int rejected = 0;
  for (std::size_t n = 1; n < wire.size(); ++n) {
    // Every prefix either fails cleanly or (at a field boundary) decodes a partial record.
    Status s = dec.decode(std::string_view(wire.data(), n), r);
    if (!s.is_ok()) {
      EXPECT_EQ(s.code(), StatusCode::kDataLoss);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  for (std::string bad : {std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11), std::string("\x0b", 1),
                          std::string("\x72\x05good", 6), std::string("\x72\x04nice", 6),
                          std::string("\x32\xff\xff\xff\xff\x0f", 6), std::string("\x00\x00", 2)}) {
    EXPECT_FALSE(dec.decode(bad, r).is_ok()) << testing::PrintToString(bad);
  }
  // Random bytes never crash.
  std::uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 2000; ++i) {
    std::string junk(static_cast<std::size_t>(i % 200), '\0');
    for (auto& c : junk) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x);
    }
    (void)dec.decode(junk, r);
  }
}

}  // namespace
}  // namespace uc

namespace uc {
namespace {

TEST(EncodeProtoPayloads, OneViewPerRecordEachDecodable) {
  std::vector<Record> records(3, sample_record());
  records[1].value_str = "other";
  std::string buffer;
  std::vector<std::string_view> views;
  encode_proto_payloads(records, buffer, views);
  ASSERT_EQ(views.size(), 3u);
  RecordDecoder dec;
  Record r;
  ASSERT_TRUE(dec.decode(views[1], r).is_ok());
  EXPECT_EQ(r.value_str, "other");
  EXPECT_EQ(views[0].size() + views[1].size() + views[2].size(), buffer.size());
}

}  // namespace
}  // namespace uc
