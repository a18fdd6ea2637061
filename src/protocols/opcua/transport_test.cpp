#include "protocols/opcua/transport.h"

#include <gtest/gtest.h>

#include <cstring>

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

TransportLimits limits(std::uint32_t buf, std::uint32_t max_msg, std::uint32_t max_chunks) {
  return TransportLimits{buf, buf, max_msg, max_chunks};
}

std::string body_of(std::size_t n) {
  std::string b(n, '\0');
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<char>(i * 7);
  return b;
}

TEST(OpcuaTransport, HelloMatchesTheWorkedExample) {
  HelloMessage h;
  h.limits = TransportLimits{65536, 65536, 0, 0};
  h.endpoint_url = "opc.tcp://127.0.0.1:4840";
  EXPECT_EQ(hex(encode_hello(h)),
            "48 45 4C 46 38 00 00 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00 00 00 00 00 00 00 18 00 00 00 " +
                hex("opc.tcp://127.0.0.1:4840"));
  auto back = decode_hello(encode_hello(h));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->endpoint_url, h.endpoint_url);
  EXPECT_EQ(back->limits.receive_buffer_size, 65536u);
}

TEST(OpcuaTransport, AcknowledgeAndErrorRoundTrip) {
  AcknowledgeMessage a;
  a.limits = limits(8192, 1000, 3);
  auto ack = decode_acknowledge(encode_acknowledge(a));
  ASSERT_TRUE(ack.is_ok());
  EXPECT_EQ(ack->limits.max_chunk_count, 3u);
  auto err = decode_error(encode_error(ErrorMessage{0x807F0000, "no channel"}));
  ASSERT_TRUE(err.is_ok());
  EXPECT_EQ(err->error, 0x807F0000u);
  EXPECT_EQ(err->reason, "no channel");
  a.limits = limits(100, 0, 0);
  EXPECT_FALSE(decode_acknowledge(encode_acknowledge(a)).is_ok());
  EXPECT_FALSE(decode_acknowledge(encode_hello(HelloMessage{})).is_ok());
  std::string truncated = encode_acknowledge(AcknowledgeMessage{0, limits(8192, 0, 0)}).substr(0, 15);
  EXPECT_FALSE(decode_acknowledge(truncated).is_ok());
}

TEST(OpcuaTransport, FrameSplitterHandlesPartialAndBackToBackFrames) {
  std::string a = encode_error(ErrorMessage{1, "a"});
  std::string b = encode_acknowledge(AcknowledgeMessage{0, limits(8192, 0, 0)});
  std::string stream = a + b;
  FrameSplitter s(65536);
  std::vector<std::string> got;
  for (char c : stream) {
    s.feed(std::string_view(&c, 1));
    for (;;) {
      auto f = s.next();
      ASSERT_TRUE(f.is_ok());
      if (!f->has_value()) break;
      got.push_back(**f);
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(OpcuaTransport, FrameSplitterRejectsBadHeaders) {
  {
    FrameSplitter s(65536);
    s.feed(std::string("XYZF\x10\0\0\0", 8));
    auto f = s.next();
    ASSERT_FALSE(f.is_ok());
    EXPECT_NE(f.status().message().find("unknown message type"), std::string::npos);
  }
  {
    FrameSplitter s(8192);
    s.feed(std::string("MSGF\x01\x00\x01\x00", 8));  // 65537 bytes announced
    auto f = s.next();
    ASSERT_FALSE(f.is_ok());
    EXPECT_NE(f.status().message().find("exceeds the receive buffer"), std::string::npos);
  }
  {
    FrameSplitter s(8192);
    s.feed(std::string("MSGF\x04\x00\x00\x00", 8));
    EXPECT_FALSE(s.next().is_ok());
  }
  {
    FrameSplitter s(8192);
    s.feed(std::string("MSGX\x10\x00\x00\x00", 8));
    EXPECT_FALSE(s.next().is_ok());
  }
}

// Two channel ends wired back to back.
struct Pair {
  SecureChannel client{std::make_unique<NoneSecurity>(), limits(8192, 0, 0)};
  SecureChannel server{std::make_unique<NoneSecurity>(), limits(8192, 0, 0)};
  Pair(TransportLimits client_local, TransportLimits server_local)
      : client(std::make_unique<NoneSecurity>(), client_local), server(std::make_unique<NoneSecurity>(), server_local) {
    client.set_peer_limits(server_local);
    server.set_peer_limits(client_local);
    client.set_channel(7, 1);
    server.set_channel(7, 1);
  }
};

TEST(OpcuaTransport, LargeMessagesAreChunkedWithinThePeerBufferAndReassembled) {
  Pair p(limits(8192, 1 << 20, 100), limits(8192, 1 << 20, 100));
  std::string body = body_of(50'000);
  auto chunks = p.client.encode(ChunkKind::kMessage, 42, body);
  ASSERT_TRUE(chunks.is_ok()) << chunks.status().to_string();
  EXPECT_EQ(chunks->size(), 7u);  // 8192 - 24 header bytes = 8168 body bytes per chunk
  for (std::size_t i = 0; i < chunks->size(); ++i) {
    EXPECT_LE((*chunks)[i].size(), 8192u);
    EXPECT_EQ((*chunks)[i][3], i + 1 == chunks->size() ? 'F' : 'C');
  }
  std::optional<ReceivedMessage> got;
  for (auto& c : *chunks) {
    auto r = p.server.receive(c);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    if (r->has_value()) got = std::move(**r);
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->request_id, 42u);
  EXPECT_EQ(got->body, body);
}

TEST(OpcuaTransport, SenderRefusesMessagesBeyondThePeerLimits) {
  Pair p(limits(8192, 0, 0), limits(8192, 10'000, 2));
  auto too_big = p.client.encode(ChunkKind::kMessage, 1, body_of(10'001));
  ASSERT_FALSE(too_big.is_ok());
  EXPECT_NE(too_big.status().message().find("max message size"), std::string::npos);
  Pair q(limits(8192, 0, 0), limits(8192, 0, 2));
  auto too_many = q.client.encode(ChunkKind::kMessage, 1, body_of(20'000));
  ASSERT_FALSE(too_many.is_ok());
  EXPECT_NE(too_many.status().message().find("chunks"), std::string::npos);
}

TEST(OpcuaTransport, ReceiverEnforcesItsChunkCountAndMessageSize) {
  {
    Pair p(limits(8192, 0, 0), limits(8192, 0, 3));  // server accepts 3 chunks
    p.client.set_peer_limits(limits(8192, 0, 0));    // a client that ignores it
    auto chunks = p.client.encode(ChunkKind::kMessage, 1, body_of(30'000));
    ASSERT_TRUE(chunks.is_ok());
    Status last;
    for (auto& c : *chunks) {
      auto r = p.server.receive(c);
      if (!r.is_ok()) {
        last = r.status();
        break;
      }
    }
    EXPECT_NE(last.message().find("max chunk count 3"), std::string::npos) << last.to_string();
  }
  {
    Pair p(limits(8192, 0, 0), limits(8192, 9000, 0));
    p.client.set_peer_limits(limits(8192, 0, 0));
    auto chunks = p.client.encode(ChunkKind::kMessage, 1, body_of(20'000));
    ASSERT_TRUE(chunks.is_ok());
    Status last;
    for (auto& c : *chunks) {
      auto r = p.server.receive(c);
      if (!r.is_ok()) {
        last = r.status();
        break;
      }
    }
    EXPECT_NE(last.message().find("max message size 9000"), std::string::npos) << last.to_string();
  }
}

TEST(OpcuaTransport, SequenceNumbersMustBeContiguousAndWrapLate) {
  Pair p(limits(8192, 0, 0), limits(8192, 0, 0));
  auto a = p.client.encode(ChunkKind::kMessage, 1, "x");
  auto b = p.client.encode(ChunkKind::kMessage, 2, "y");
  auto c = p.client.encode(ChunkKind::kMessage, 3, "z");
  ASSERT_TRUE(p.server.receive((*a)[0]).is_ok());
  auto gap = p.server.receive((*c)[0]);  // b skipped
  ASSERT_FALSE(gap.is_ok());
  EXPECT_NE(gap.status().message().find("Bad_SequenceNumberInvalid"), std::string::npos);

  Pair w(limits(8192, 0, 0), limits(8192, 0, 0));
  w.client.set_next_sequence_number(0xFFFFFFFFu - 1024u);
  auto x = w.client.encode(ChunkKind::kMessage, 1, "x");
  auto y = w.client.encode(ChunkKind::kMessage, 2, "y");
  EXPECT_EQ(w.client.next_sequence_number(), 2u);
  ASSERT_TRUE(w.server.receive((*x)[0]).is_ok());
  auto wrapped = w.server.receive((*y)[0]);
  ASSERT_TRUE(wrapped.is_ok()) << wrapped.status().to_string();
}

TEST(OpcuaTransport, AbortChunkFailsOnlyThatMessage) {
  Pair p(limits(8192, 0, 0), limits(8192, 0, 0));
  auto chunks = p.client.encode(ChunkKind::kMessage, 5, body_of(10'000));
  ASSERT_TRUE(p.server.receive((*chunks)[0]).is_ok());
  // Build an abort chunk by hand with the next sequence number.
  std::string abort_body;
  Encoder e(abort_body);
  e.u32(0x80B90000);
  encode(e, String("too large"));
  p.client.set_next_sequence_number(2);  // the abort replaces the unsent second chunk
  auto abort_chunks = p.client.encode(ChunkKind::kMessage, 5, abort_body);
  std::string a = (*abort_chunks)[0];
  a[3] = 'A';
  auto r = p.server.receive(a);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_TRUE(r->has_value());
  ASSERT_TRUE((*r)->abort.has_value());
  EXPECT_EQ((*r)->abort->error, 0x80B90000u);
  EXPECT_EQ((*r)->abort->reason, "too large");
  auto next = p.client.encode(ChunkKind::kMessage, 6, "ok");
  auto n = p.server.receive((*next)[0]);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ((**n).body, "ok");
}

TEST(OpcuaTransport, ChannelAndTokenAreChecked) {
  Pair p(limits(8192, 0, 0), limits(8192, 0, 0));
  auto m = p.client.encode(ChunkKind::kMessage, 1, "x");
  std::string wrong_channel = (*m)[0];
  wrong_channel[8] = 9;
  auto r = p.server.receive(wrong_channel);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("secure channel 9"), std::string::npos);

  Pair q(limits(8192, 0, 0), limits(8192, 0, 0));
  q.client.renew_token(2);  // the server has not renewed
  auto t = q.client.encode(ChunkKind::kMessage, 1, "x");
  auto rt = q.server.receive((*t)[0]);
  ASSERT_FALSE(rt.is_ok());
  EXPECT_NE(rt.status().message().find("unknown security token 2"), std::string::npos);
  // After renewal both the old and new tokens are accepted.
  q.server.renew_token(2);
  EXPECT_TRUE(q.server.receive((*t)[0]).is_ok());
}

TEST(OpcuaTransport, OpenSecureChannelCarriesThePolicyAndServiceBody) {
  SecureChannel client(std::make_unique<NoneSecurity>(), TransportLimits{});
  SecureChannel server(std::make_unique<NoneSecurity>(), TransportLimits{});
  OpenSecureChannelRequest req;
  req.request_type = SecurityTokenRequestType::kIssue;
  req.security_mode = MessageSecurityMode::kNone;
  req.requested_lifetime = 600000;
  auto chunks = client.encode(ChunkKind::kOpen, 1, encode_service(req));
  ASSERT_TRUE(chunks.is_ok());
  ASSERT_EQ(chunks->size(), 1u);
  EXPECT_EQ((*chunks)[0].substr(0, 4), "OPNF");
  auto r = server.receive((*chunks)[0]);
  ASSERT_TRUE(r.is_ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->policy_uri, kSecurityPolicyNone);
  EXPECT_EQ(peek_service_type((*r)->body), 446u);
  OpenSecureChannelRequest back;
  ASSERT_TRUE(decode_service((*r)->body, back, Limits()).is_ok());
  EXPECT_EQ(back, req);
  ReadRequest wrong;
  EXPECT_FALSE(decode_service((*r)->body, wrong, Limits()).is_ok());
}

TEST(OpcuaTransport, TruncatedAndCorruptChunksFailCleanly) {
  Pair p(limits(8192, 0, 0), limits(8192, 0, 0));
  auto m = p.client.encode(ChunkKind::kMessage, 1, body_of(100));
  const std::string& full = (*m)[0];
  for (std::size_t len = 0; len < 24; ++len) {
    SecureChannel s(std::make_unique<NoneSecurity>(), TransportLimits{});
    EXPECT_FALSE(s.receive(full.substr(0, len)).is_ok()) << len;
  }
  std::string bad_size = full;
  bad_size[4] = 1;
  SecureChannel s(std::make_unique<NoneSecurity>(), TransportLimits{});
  EXPECT_FALSE(s.receive(bad_size).is_ok());
}

}  // namespace
}  // namespace uc::opcua
