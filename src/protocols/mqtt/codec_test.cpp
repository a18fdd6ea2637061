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
  // over the limit (1024) and not a PUBLISH (which would be skipped)
  auto r = decode_all(Version::k311, {0x90, 0x80, 0x10});
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

// The fixed header and variable header of a PUBLISH announcing `remaining` bytes.
Bytes publish_head(int qos, const std::string& topic, std::uint16_t id, std::size_t remaining) {
  Bytes b{static_cast<std::uint8_t>(0x30 | (qos << 1))};
  for (std::size_t v = remaining;;) {
    const auto byte = static_cast<std::uint8_t>(v % 128);
    v /= 128;
    b.push_back(static_cast<std::uint8_t>(byte | (v > 0 ? 0x80 : 0)));
    if (v == 0) break;
  }
  b.push_back(static_cast<std::uint8_t>(topic.size() >> 8));
  b.push_back(static_cast<std::uint8_t>(topic.size() & 0xff));
  b.insert(b.end(), topic.begin(), topic.end());
  if (qos > 0) {
    b.push_back(static_cast<std::uint8_t>(id >> 8));
    b.push_back(static_cast<std::uint8_t>(id & 0xff));
  }
  return b;
}

TEST(MqttCodec, OversizedPublishIsReadPastInChunksWithoutBeingBufferedThenReturnedWithoutPayload) {
  constexpr std::size_t kLimit = 1 << 20;
  constexpr std::size_t kRemaining = 20u << 20;  // 20 MiB announced
  const std::string topic = "big/blob";
  Decoder d(Version::k311, kLimit);
  Bytes head = publish_head(1, topic, 4242, kRemaining);
  const std::size_t payload = kRemaining - (2 + topic.size() + 2);
  // The header arrives in two pieces: nothing is decided before the packet id is there.
  d.feed(head.data(), 6);
  auto r = d.next();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_FALSE(r->has_value());
  d.feed(head.data() + 6, head.size() - 6);
  const Bytes chunk(64 * 1024, 0xab);
  std::size_t left = payload;
  while (left > chunk.size()) {
    d.feed(chunk.data(), chunk.size());
    left -= chunk.size();
    r = d.next();
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_FALSE(r->has_value()) << "returned before its last byte";
    ASSERT_EQ(d.buffered(), 0u) << "the payload is being held";
  }
  // The last bytes and a small PUBLISH in one read.
  Bytes tail(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(left));
  const std::string v = "7";
  const Bytes small = encode_publish(Version::k311, "small/one", reinterpret_cast<const std::uint8_t*>(v.data()), 1,
                                     1, false, 4243);
  tail.insert(tail.end(), small.begin(), small.end());
  d.feed(tail.data(), tail.size());
  r = d.next();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->type, PacketType::kPublish);
  EXPECT_EQ((*r)->topic, topic);
  EXPECT_EQ((*r)->packet_id, 4242);
  EXPECT_EQ((*r)->qos, 1);
  EXPECT_EQ((*r)->skipped_bytes, kRemaining);
  EXPECT_TRUE((*r)->payload.empty());
  r = d.next();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->topic, "small/one");
  EXPECT_EQ((*r)->packet_id, 4243);
  EXPECT_EQ((*r)->skipped_bytes, 0u);
  EXPECT_EQ(std::string((*r)->payload.begin(), (*r)->payload.end()), "7");
}

TEST(MqttCodec, OversizedPublishAlreadyBufferedWholeIsSkippedToo) {
  Decoder d(Version::k5, 1024);
  Bytes b = publish_head(0, "t", 0, 3000);
  b.resize(b.size() + 3000 - 3, 0);  // payload; no packet id at QoS 0
  const Bytes ping = {0xd0, 0x00};
  b.insert(b.end(), ping.begin(), ping.end());
  d.feed(b.data(), b.size());
  auto r = d.next();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->skipped_bytes, 3000u);
  EXPECT_EQ((*r)->topic, "t");
  r = d.next();
  ASSERT_TRUE(r.is_ok() && r->has_value());
  EXPECT_EQ((*r)->type, PacketType::kPingresp);
}

TEST(MqttCodec, OversizedPublishWithABadHeaderIsStillAnError) {
  // topic length beyond the announced size
  Bytes b = {0x30, 0x80, 0x10, 0xff, 0xff};
  auto r = decode_all(Version::k311, b);
  EXPECT_FALSE(r.is_ok());
  // QoS 3, and packet id 0
  EXPECT_FALSE(decode_all(Version::k311, {0x36, 0x80, 0x10, 0, 1, 'a'}).is_ok());
  EXPECT_FALSE(decode_all(Version::k311, {0x32, 0x80, 0x10, 0, 1, 'a', 0, 0}).is_ok());
  // a topic of 60000 bytes is waited for, never a reason to buffer the payload
  Decoder d(Version::k311, 1024);
  const Bytes head = publish_head(1, std::string(60000, 'x'), 9, 100000);
  d.feed(head.data(), head.size() - 1);
  r = d.next();
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->has_value());
  d.feed(&head.back(), 1);
  r = d.next();
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(MqttCodec, Connect5AnnouncesTheMaximumPacketSize) {
  ConnectOptions o;
  o.version = Version::k5;
  o.client_id = "x";
  o.maximum_packet_size = 0x01000000;
  const Bytes b = encode_connect(o);
  EXPECT_EQ(b[12], 5);     // property length
  EXPECT_EQ(b[13], 0x27);  // Maximum Packet Size
  EXPECT_EQ(b[14], 0x01);
  EXPECT_EQ(b[15], 0x00);
  o.version = Version::k311;  // no properties in 3.1.1
  EXPECT_EQ(encode_connect(o).size(), 15u);
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
