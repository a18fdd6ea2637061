#include "protocols/mqtt/codec.h"

#include <gtest/gtest.h>

namespace uc::protocols::mqtt {
namespace {

Result<std::optional<Packet>> decode_all(Version v, const Bytes& bytes) {
  Decoder d(v, 1024);
  d.feed(bytes.data(), bytes.size());
  return d.next();
}

TEST(MqttCodec, ConnectMatchesTheSpecLayout) {
  ConnectOptions o;
  o.client_id = "c1";
  o.keep_alive_s = 60;
  o.username = "u";
  o.password = "p";
  const Bytes b = encode_connect(o);
  const Bytes want = {0x10, 20, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xc2, 0, 60, 0, 2, 'c', '1', 0, 1, 'u', 0, 1, 'p'};
  EXPECT_EQ(b, want);
}

TEST(MqttCodec, Connect5CarriesSessionExpiryAndWill) {
  ConnectOptions o;
  o.version = Version::k5;
  o.client_id = "x";
  o.clean_start = false;
  o.session_expiry_s = 3600;
  o.will = Will{"t", {'d'}, 1, true};
  const Bytes b = encode_connect(o);
  // flags: will(4) | will qos 1 (8) | will retain (0x20)
  EXPECT_EQ(b[8], 5);     // protocol level
  EXPECT_EQ(b[9], 0x2c);
  EXPECT_EQ(b[12], 5);     // property length
  EXPECT_EQ(b[13], 0x11);  // session expiry
  EXPECT_EQ(b[16], 0x0e);  // 3600 = 0x00000e10
  EXPECT_EQ(b[17], 0x10);
}

TEST(MqttCodec, PublishRoundTripsThroughTheDecoderInBothVersions) {
  for (Version v : {Version::k311, Version::k5}) {
    const std::string payload = "42.5";
    const Bytes b = encode_publish(v, "a/b", reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size(), 2,
                                   true, 77);
    Decoder d(v);
    // Byte by byte: the decoder must wait for the whole packet.
    for (std::size_t i = 0; i + 1 < b.size(); ++i) {
      d.feed(&b[i], 1);
      auto r = d.next();
      ASSERT_TRUE(r.is_ok());
      ASSERT_FALSE(r->has_value());
    }
    d.feed(&b.back(), 1);
    auto r = d.next();
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_TRUE(r->has_value());
    const Packet& p = **r;
    EXPECT_EQ(p.type, PacketType::kPublish);
    EXPECT_EQ(p.topic, "a/b");
    EXPECT_EQ(p.qos, 2);
    EXPECT_TRUE(p.retain);
    EXPECT_EQ(p.packet_id, 77);
    EXPECT_EQ(std::string(p.payload.begin(), p.payload.end()), payload);
  }
}

TEST(MqttCodec, AcksAndSubscribe) {
  EXPECT_EQ(encode_ack(PacketType::kPuback, 0x0102), (Bytes{0x40, 2, 1, 2}));
  EXPECT_EQ(encode_ack(PacketType::kPubrel, 5), (Bytes{0x62, 2, 0, 5}));
  EXPECT_EQ(encode_subscribe(Version::k311, 1, {{"a/#", 1}}), (Bytes{0x82, 8, 0, 1, 0, 3, 'a', '/', '#', 1}));
  EXPECT_EQ(encode_subscribe(Version::k5, 1, {{"a", 2}}), (Bytes{0x82, 7, 0, 1, 0, 0, 1, 'a', 2}));
}

TEST(MqttCodec, DecodesConnackSubackAndV5Properties) {
  auto r = decode_all(Version::k5, {0x20, 6, 1, 0, 3, 0x21, 0, 10});
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE((*r)->session_present);
  r = decode_all(Version::k311, {0x90, 4, 0, 9, 1, 0x80});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)->packet_id, 9);
  EXPECT_EQ((*r)->reason_codes, (std::vector<std::uint8_t>{1, 0x80}));
}

TEST(MqttCodec, MalformedTruncatedAndOversizedInputAreErrors) {
  // topic length beyond the body
  EXPECT_FALSE(decode_all(Version::k311, {0x30, 3, 0, 9, 'a'}).is_ok());
  // QoS 3
  EXPECT_FALSE(decode_all(Version::k311, {0x36, 3, 0, 1, 'a'}).is_ok());
  // packet id 0 on QoS 1
  EXPECT_FALSE(decode_all(Version::k311, {0x32, 5, 0, 1, 'a', 0, 0}).is_ok());
  // remaining length longer than 4 bytes
  EXPECT_FALSE(decode_all(Version::k311, {0x30, 0xff, 0xff, 0xff, 0xff, 0x01}).is_ok());
  // over the limit (1024)
  auto r = decode_all(Version::k311, {0x30, 0x80, 0x10});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  // v5 property length beyond the body
  EXPECT_FALSE(decode_all(Version::k5, {0x30, 4, 0, 1, 'a', 9}).is_ok());
  // a CONNECT from the server, empty SUBACK, truncated CONNACK
  EXPECT_FALSE(decode_all(Version::k311, {0x10, 0}).is_ok());
  EXPECT_FALSE(decode_all(Version::k311, {0x90, 2, 0, 1}).is_ok());
  EXPECT_FALSE(decode_all(Version::k311, {0x20, 1, 0}).is_ok());
  EXPECT_FALSE(decode_all(Version::k311, {0x00, 0}).is_ok());
  // incomplete: not an error, just no packet yet
  r = decode_all(Version::k311, {0x30, 10, 0});
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->has_value());
}

TEST(MqttCodec, ArbitraryBytesNeverCrashTheDecoder) {
  std::uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    Bytes b(static_cast<std::size_t>(round % 64));
    for (auto& c : b) {
      x = x * 1103515245 + 12345;
      c = static_cast<std::uint8_t>(x >> 16);
    }
    for (Version v : {Version::k311, Version::k5}) {
      Decoder d(v, 4096);
      d.feed(b.data(), b.size());
      for (int k = 0; k < 70; ++k) {
        auto r = d.next();
        if (!r.is_ok() || !r->has_value()) break;
      }
    }
  }
}

}  // namespace
}  // namespace uc::protocols::mqtt
