// GCC 12 reports false -Wnull-dereference inside std::variant when vectors of Variant
// relocate (libstdc++ inlining); the library code itself compiles clean.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "protocols/opcua/encoding.h"

#include <gtest/gtest.h>

#include <limits>

#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"
#include "protocols/opcua/generated/types.h"

namespace uc::opcua {
namespace {

std::string hex(const std::string& b) {
  static const char* d = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : b) {
    if (!out.empty()) out += ' ';
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string bytes(std::initializer_list<int> v) {
  std::string out;
  for (int x : v) out.push_back(static_cast<char>(x));
  return out;
}

template <typename T>
std::string enc(const T& v) {
  std::string out;
  Encoder e(out);
  encode(e, v);
  return out;
}

template <typename T>
T roundtrip(const T& v) {
  std::string b = enc(v);
  Limits limits;
  Decoder d(b, limits);
  T out{};
  EXPECT_TRUE(decode(d, out)) << d.error();
  EXPECT_EQ(d.remaining(), 0u);
  return out;
}

template <typename T>
std::string decode_error(const std::string& b, const Limits& limits = Limits()) {
  Decoder d(b, limits);
  T out{};
  EXPECT_FALSE(decode(d, out));
  return d.error();
}

TEST(OpcuaEncoding, NodeIdFormsMatchTheSpecExamples) {
  EXPECT_EQ(hex(enc(NodeId(85))), "00 55");
  EXPECT_EQ(hex(enc(NodeId(2258))), "01 00 D2 08");
  EXPECT_EQ(hex(enc(NodeId(1, std::string("Hot\xE6\xB0\xB4")))), "03 01 00 06 00 00 00 48 6F 74 E6 B0 B4");
  EXPECT_EQ(hex(enc(NodeId(300, std::uint32_t{70000}))), "02 2C 01 70 11 01 00");
  EXPECT_EQ(hex(enc(NodeId())), "00 00");
  NodeId g;
  g.ns = 2;
  g.id = Guid{0x72962B91, 0xFA75, 0x4AE6, {0x8D, 0x28, 0xB4, 0x04, 0xDC, 0x7D, 0xAF, 0x63}};
  EXPECT_EQ(roundtrip(g), g);
  EXPECT_EQ(to_string(g), "ns=2;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63");
  NodeId b;
  b.ns = 3;
  b.id = ByteString{std::string("\x01\x02\xFF", 3)};
  EXPECT_EQ(roundtrip(b), b);
  for (const NodeId& n : {NodeId(85), NodeId(2258), NodeId(7, std::string("a.b")), NodeId(9, std::uint32_t{1u << 30})}) {
    EXPECT_EQ(roundtrip(n), n);
  }
}

TEST(OpcuaEncoding, NodeIdTextRoundTrips) {
  for (const char* text : {"i=85", "ns=2;s=Temp", "ns=1;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63", "ns=3;b=AQL/"}) {
    NodeId id;
    ASSERT_TRUE(parse_node_id(text, id)) << text;
    EXPECT_EQ(to_string(id), text);
  }
  NodeId id;
  EXPECT_FALSE(parse_node_id("ns=70000;i=1", id));
  EXPECT_FALSE(parse_node_id("i=abc", id));
  EXPECT_FALSE(parse_node_id("x=1", id));
  EXPECT_FALSE(parse_node_id("ns=1;g=123", id));
}

TEST(OpcuaEncoding, ExpandedNodeIdWithUriAndServerIndex) {
  ExpandedNodeId e{NodeId(4, std::string("x")), std::string("urn:test"), 5};
  std::string b = enc(e);
  EXPECT_EQ(static_cast<unsigned char>(b[0]), 0xC3);
  EXPECT_EQ(roundtrip(e), e);
  ExpandedNodeId plain{NodeId(85), std::nullopt, 0};
  EXPECT_EQ(hex(enc(plain)), "00 55");
  EXPECT_EQ(roundtrip(plain), plain);
  // A plain NodeId must not carry the expanded flags.
  EXPECT_NE(decode_error<NodeId>(bytes({0x80, 0x55})).find("ExpandedNodeId flags"), std::string::npos);
}

TEST(OpcuaEncoding, StringsKeepNullApartFromEmpty) {
  EXPECT_EQ(hex(enc(String())), "FF FF FF FF");
  EXPECT_EQ(hex(enc(String(""))), "00 00 00 00");
  EXPECT_EQ(roundtrip(String()), String());
  EXPECT_EQ(roundtrip(String("")), String(""));
  EXPECT_EQ(roundtrip(ByteString{}), ByteString{});
  EXPECT_EQ(roundtrip(ByteString{std::string("\0\1", 2)}), ByteString{std::string("\0\1", 2)});
}

TEST(OpcuaEncoding, QualifiedNameLocalizedTextDateTime) {
  QualifiedName q{3, std::string("Temp")};
  EXPECT_EQ(roundtrip(q), q);
  EXPECT_EQ(hex(enc(QualifiedName{})), "00 00 FF FF FF FF");
  LocalizedText t{std::string("en"), std::string("Hello")};
  EXPECT_EQ(roundtrip(t), t);
  LocalizedText only_text{std::nullopt, std::string("x")};
  EXPECT_EQ(hex(enc(only_text)), "02 01 00 00 00 78");
  EXPECT_EQ(roundtrip(only_text), only_text);
  EXPECT_EQ(datetime_to_unix_us(datetime_from_unix_us(1'700'000'000'123'456)), 1'700'000'000'123'456);
  EXPECT_EQ(datetime_from_unix_us(0).ticks, kUnixEpochTicks);
}

TEST(OpcuaEncoding, VariantScalarsArraysAndMatrices) {
  EXPECT_EQ(hex(enc(Variant::scalar(std::int32_t{5}))), "06 05 00 00 00");
  EXPECT_EQ(hex(enc(Variant::array(std::vector<std::int32_t>{1, 2}))), "86 02 00 00 00 01 00 00 00 02 00 00 00");
  EXPECT_EQ(hex(enc(Variant())), "00");
  std::vector<Variant> samples = {
      Variant::scalar(true), Variant::scalar(std::int8_t{-5}), Variant::scalar(std::uint8_t{200}),
      Variant::scalar(std::int16_t{-300}), Variant::scalar(std::uint16_t{60000}), Variant::scalar(std::int32_t{-7}),
      Variant::scalar(std::uint32_t{4000000000u}), Variant::scalar(std::numeric_limits<std::int64_t>::min()),
      Variant::scalar(std::numeric_limits<std::uint64_t>::max()), Variant::scalar(1.5f), Variant::scalar(-2.25),
      Variant::scalar(String("x")), Variant::scalar(DateTime{132'000'000'000'000'000}),
      Variant::scalar(ByteString{std::string("ab")}), Variant::scalar(StatusCode{0x80340000}),
      Variant::scalar(NodeId(1, std::string("n"))), Variant::scalar(QualifiedName{1, std::string("q")}),
      Variant::scalar(LocalizedText{std::nullopt, std::string("t")}),
      Variant::array(std::vector<double>{1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {2, 3}),
      Variant::array(std::vector<String>{String("a"), String(), String("")}),
      Variant::array(std::vector<Box<Variant>>{Box<Variant>(Variant::scalar(1.0)), Box<Variant>(Variant::scalar(String("s")))}),
  };
  DataValue inner;
  inner.value = Variant::scalar(3.0);
  samples.push_back(Variant::scalar(Box<DataValue>(inner)));
  for (const auto& v : samples) EXPECT_EQ(roundtrip(v), v) << builtin_type_name(v.type);
}

TEST(OpcuaEncoding, DataValueFieldOrderIsNotBitOrder) {
  DataValue v;
  v.value = Variant::scalar(std::int32_t{1});
  v.status = StatusCode{0x40000000};
  v.source_timestamp = DateTime{1};
  v.source_picoseconds = 2;
  v.server_timestamp = DateTime{3};
  v.server_picoseconds = 4;
  EXPECT_EQ(hex(enc(v)),
            "3F 06 01 00 00 00 00 00 00 40 01 00 00 00 00 00 00 00 02 00 03 00 00 00 00 00 00 00 04 00");
  EXPECT_EQ(roundtrip(v), v);
  EXPECT_EQ(hex(enc(DataValue{})), "00");
}

TEST(OpcuaEncoding, DiagnosticInfoLocaleBeforeLocalizedText) {
  DiagnosticInfo d;
  d.localized_text = 1;
  d.locale = 2;
  d.additional_info = std::string("why");
  DiagnosticInfo in;
  in.inner_status_code = StatusCode{0x80000000};
  d.inner = Box<DiagnosticInfo>(in);
  std::string b = enc(d);
  EXPECT_EQ(hex(b.substr(0, 9)), "5C 02 00 00 00 01 00 00 00");
  EXPECT_EQ(roundtrip(d), d);
}

TEST(OpcuaEncoding, ExtensionObjectBodiesDecodeOnDemand) {
  DataChangeFilter f;
  f.trigger = DataChangeTrigger::kStatusValue;
  f.deadband_type = 1;
  f.deadband_value = 0.5;
  ExtensionObject obj = make_extension(f);
  EXPECT_EQ(obj.type_id, NodeId(724));
  ExtensionObject back = roundtrip(obj);
  DataChangeFilter g;
  ASSERT_TRUE(decode_extension(back, g, Limits()));
  EXPECT_EQ(g, f);
  ReadValueId wrong;
  std::string err;
  EXPECT_FALSE(decode_extension(back, wrong, Limits(), &err));
  EXPECT_EQ(hex(enc(ExtensionObject{})), "00 00 00");
}

TEST(OpcuaEncoding, GeneratedServiceStructuresRoundTrip) {
  ReadRequest r;
  r.request_header.authentication_token = NodeId(1, std::string("tok"));
  r.request_header.request_handle = 7;
  r.timestamps_to_return = TimestampsToReturn::kBoth;
  r.nodes_to_read.push_back(ReadValueId{NodeId(2, std::string("Temp")), 13, std::nullopt, QualifiedName{}});
  EXPECT_EQ(roundtrip(r), r);
  EXPECT_EQ(ReadRequest::kBinaryEncodingId, 631u);
  EXPECT_EQ(OpenSecureChannelRequest::kBinaryEncodingId, 446u);
  EXPECT_EQ(PublishResponse::kBinaryEncodingId, 829u);
  EXPECT_EQ(ids::kObjectsFolder, 85u);
  EXPECT_EQ(ids::kServer_ServerStatus_State, 2259u);
  EXPECT_EQ(status::kBadNodeIdUnknown, 0x80340000u);
  EXPECT_STREQ(status::name(0x80340000u), "BadNodeIdUnknown");
  EXPECT_STREQ(status::name(0x800A0400u), "BadTimeout");
  EXPECT_STREQ(status::name(0x40FF0000u), "Uncertain");
}

// ---- hostile input ----------------------------------------------------------------------

TEST(OpcuaEncoding, TruncatedInputFailsCleanlyAtEveryLength) {
  PublishResponse p;
  p.subscription_id = 3;
  p.available_sequence_numbers = {1, 2};
  DataChangeNotification n;
  MonitoredItemNotification m;
  m.client_handle = 9;
  m.value.value = Variant::scalar(String("hello"));
  m.value.source_timestamp = DateTime{5};
  n.monitored_items.push_back(m);
  p.notification_message.notification_data.push_back(make_extension(n));
  std::string full = enc(p);
  for (std::size_t len = 0; len < full.size(); ++len) {
    std::string part = full.substr(0, len);
    Limits limits;
    Decoder d(part, limits);
    PublishResponse out;
    EXPECT_FALSE(decode(d, out)) << len;
    EXPECT_EQ(d.error(), "truncated input") << len;
  }
  EXPECT_EQ(roundtrip(p), p);
}

TEST(OpcuaEncoding, ADecoderKeepsItsOwnCopyOfTheLimits) {
  // A Decoder built from a temporary Limits once kept a reference to it (found by the
  // opcua_server_request fuzz target under ASan: stack-use-after-scope).
  const std::string in = enc(String("hello"));
  Decoder d(in, Limits{4, 8, 2});
  String out;
  EXPECT_FALSE(decode(d, out));
  EXPECT_NE(d.error().find("exceeds the limit 4"), std::string::npos) << d.error();
  EXPECT_EQ(d.limits().max_depth, 2);
}

TEST(OpcuaEncoding, LengthsBeyondLimitsAreRejected) {
  Limits small;
  small.max_string_length = 4;
  small.max_array_length = 3;
  EXPECT_NE(decode_error<String>(enc(String("hello")), small).find("exceeds the limit 4"), std::string::npos);
  EXPECT_NE(decode_error<std::vector<std::int32_t>>(enc(std::vector<std::int32_t>{1, 2, 3, 4}), small)
                .find("exceeds the limit 3"),
            std::string::npos);
  // A huge declared length with no data must fail without allocating it.
  EXPECT_NE(decode_error<String>(bytes({0xFF, 0xFF, 0xFF, 0x7F})).find("exceeds the limit"), std::string::npos);
  EXPECT_NE(decode_error<std::vector<NodeId>>(bytes({0x00, 0x00, 0x00, 0x7F})).find("exceeds the limit"),
            std::string::npos);
  EXPECT_NE(decode_error<String>(bytes({0xFE, 0xFF, 0xFF, 0xFF})).find("negative"), std::string::npos);
  EXPECT_NE(decode_error<Variant>(bytes({0x86, 0x00, 0x00, 0x00, 0x40})).find("exceeds the limit"),
            std::string::npos);
}

TEST(OpcuaEncoding, InvalidUtf8IsRejected) {
  EXPECT_NE(decode_error<String>(bytes({2, 0, 0, 0, 0xC3, 0x28})).find("UTF-8"), std::string::npos);
  EXPECT_NE(decode_error<String>(bytes({3, 0, 0, 0, 0xED, 0xA0, 0x80})).find("UTF-8"), std::string::npos);  // surrogate
  EXPECT_NE(decode_error<String>(bytes({2, 0, 0, 0, 0xC0, 0x80})).find("UTF-8"), std::string::npos);  // overlong
  EXPECT_TRUE(is_valid_utf8("Hot\xE6\xB0\xB4 \xF0\x9F\x98\x80"));
  // ByteString carries arbitrary bytes.
  ByteString b;
  Limits limits;
  std::string in = bytes({2, 0, 0, 0, 0xC3, 0x28});
  Decoder d(in, limits);
  EXPECT_TRUE(decode(d, b));
}

TEST(OpcuaEncoding, NestingBeyondTheDepthLimitIsRejected) {
  // Variant arrays of Variants nested 100 deep.
  std::string b;
  for (int i = 0; i < 100; ++i) b += bytes({0x98, 1, 0, 0, 0});
  b += bytes({0x06, 1, 0, 0, 0});
  EXPECT_NE(decode_error<Variant>(b).find("nesting deeper than 32"), std::string::npos);
  // DiagnosticInfo with inner infos 100 deep.
  std::string di(100, '\x40');
  di += '\0';
  EXPECT_NE(decode_error<DiagnosticInfo>(di).find("nesting deeper"), std::string::npos);
  // Just within the limit works.
  std::string ok;
  for (int i = 0; i < 30; ++i) ok += bytes({0x98, 1, 0, 0, 0});
  ok += bytes({0x06, 1, 0, 0, 0});
  Limits limits;
  Decoder d(ok, limits);
  Variant v;
  EXPECT_TRUE(decode(d, v)) << d.error();
}

TEST(OpcuaEncoding, MalformedVariantsAndNodeIds) {
  EXPECT_NE(decode_error<NodeId>(bytes({0x07, 0, 0})).find("invalid NodeId encoding"), std::string::npos);
  EXPECT_NE(decode_error<Variant>(bytes({0x18, 0x06, 1, 0, 0, 0})).find("Variant holds a Variant"),
            std::string::npos);
  EXPECT_NE(decode_error<Variant>(bytes({0x46, 1, 0, 0, 0})).find("scalar with array dimensions"), std::string::npos);
  // Array of 2 with dimensions [3]: mismatch.
  EXPECT_NE(decode_error<Variant>(bytes({0xC6, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0}))
                .find("dimensions"),
            std::string::npos);
  EXPECT_NE(decode_error<ExtensionObject>(bytes({0x00, 0x01, 0x07})).find("ExtensionObject encoding"),
            std::string::npos);
}

}  // namespace
}  // namespace uc::opcua
