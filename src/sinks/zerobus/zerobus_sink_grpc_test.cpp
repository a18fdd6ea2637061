// The Zerobus sink against an in-process gRPC Zerobus server and an HTTP token endpoint,
// both on loopback: delivery and offsets, poison isolation, protocol errors, the ack
// timeout, close signals, UNAVAILABLE and the schema check. (The Python test server in
// tests/zerobus/ drives the whole connector; this one runs under ASan with the unit tests.)
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "record.pb.h"
#include "sinks/zerobus/zerobus_sink.h"
#include "zerobus_service.grpc.pb.h"

namespace uc::sinks::zerobus {
namespace {

namespace zb = databricks::zerobus;

enum class Mode { kAck, kUnknownAck, kSilence, kCloseAfterAck, kEndAfterAck, kUnavailable };

class FakeZerobus final : public zb::Zerobus::Service {
 public:
  grpc::Status EphemeralStream(grpc::ServerContext* ctx,
                               grpc::ServerReaderWriter<zb::EphemeralStreamResponse, zb::EphemeralStreamRequest>* s)
      override {
    zb::EphemeralStreamRequest req;
    if (!s->Read(&req) || !req.has_create_stream()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "first message must be create_stream"};
    }
    auto md = ctx->client_metadata();
    auto auth = md.find("authorization");
    auto table = md.find("x-databricks-zerobus-table-name");
    if (auth == md.end() || std::string(auth->second.data(), auth->second.size()) != "Bearer tok" ||
        table == md.end() || std::string(table->second.data(), table->second.size()) != "c.s.t") {
      return {grpc::StatusCode::UNAUTHENTICATED, "bad headers"};
    }
    google::protobuf::DescriptorProto dp;
    if (req.create_stream().record_type() != zb::PROTO || !dp.ParseFromString(req.create_stream().descriptor_proto()) ||
        dp.name() != "OtRecord") {
      return {grpc::StatusCode::INVALID_ARGUMENT, "descriptor"};
    }
    ++streams;
    zb::EphemeralStreamResponse created;
    created.mutable_create_stream_response()->set_stream_id("stream-" + std::to_string(streams.load()));
    s->Write(created);
    std::int64_t expected = 0;
    std::optional<std::chrono::steady_clock::time_point> closing_until;
    while (s->Read(&req)) {
      if (!req.has_ingest_record_batch() || req.ingest_record_batch().offset_id() != expected) {
        ++offset_errors;
        return {grpc::StatusCode::INVALID_ARGUMENT, "bad offset"};
      }
      std::vector<std::string> names;
      for (const auto& raw : req.ingest_record_batch().proto_encoded_batch().records()) {
        unified_connector::v1::OtRecord r;
        if (!r.ParseFromString(raw)) return {grpc::StatusCode::INVALID_ARGUMENT, "undecodable record"};
        if (r.tag_name() == "poison") return {grpc::StatusCode::INVALID_ARGUMENT, "poison. Error Code: 4044"};
        names.push_back(r.tag_name());
      }
      Mode m = next_mode();
      if (m == Mode::kUnavailable) return {grpc::StatusCode::UNAVAILABLE, "Stream timeout reached. Error Code: 6002"};
      if (m == Mode::kSilence) continue;
      zb::EphemeralStreamResponse ack;
      ack.mutable_ingest_record_response()->set_durability_ack_up_to_offset(m == Mode::kUnknownAck ? expected + 3
                                                                                                   : expected);
      if (m != Mode::kUnknownAck) {
        std::lock_guard lock(mu);
        for (auto& n : names) received.push_back(n);
      }
      s->Write(ack);
      ++expected;
      if (m == Mode::kCloseAfterAck) {
        // As the service does: announce the close, keep acking for the duration, then end.
        zb::EphemeralStreamResponse close;
        close.mutable_close_stream_signal()->mutable_duration()->set_nanos(200'000'000);
        s->Write(close);
        closing_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      }
      if (closing_until && std::chrono::steady_clock::now() >= *closing_until) return grpc::Status::OK;
      if (m == Mode::kEndAfterAck) return grpc::Status::OK;  // abrupt: no close signal
    }
    return grpc::Status::OK;
  }

  Mode next_mode() {
    std::lock_guard lock(mu);
    if (modes.empty()) return Mode::kAck;
    Mode m = modes.front();
    modes.erase(modes.begin());
    return m;
  }

  std::mutex mu;
  std::vector<Mode> modes;
  std::vector<std::string> received;
  std::atomic<int> streams{0};
  std::atomic<int> offset_errors{0};
};

class SinkGrpc : public ::testing::Test {
 protected:
  void SetUp() override {
    http_.Post("/oidc/v1/token", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"access_token":"tok","expires_in":3600})", "application/json");
    });
    http_port_ = http_.bind_to_any_port("127.0.0.1");
    http_thread_ = std::thread([this] { http_.listen_after_bind(); });
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port_);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    Options o;
    o.table = "c.s.t";
    o.endpoint = "127.0.0.1:" + std::to_string(grpc_port_);
    o.workspace_host = "http://127.0.0.1:" + std::to_string(http_port_);
    o.tls = false;
    o.ack_timeout_ms = 300;
    o.create_timeout_ms = 2000;
    auto tokens = std::make_shared<TokenProvider>(o.workspace_host, "127", "id", "secret");
    sink_ = std::make_unique<ZerobusSink>(o, tokens, SystemClock::instance());
    ASSERT_TRUE(sink_->start().is_ok());
  }
  void TearDown() override {
    sink_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    http_.stop();
    http_thread_.join();
  }

  static std::vector<Record> batch(std::initializer_list<const char*> names) {
    std::vector<Record> out;
    for (const char* n : names) {
      auto tag = std::make_shared<TagInfo>();
      tag->tag_name = n;
      tag->source_name = "src";
      Record r;
      r.tag = tag;
      r.value_str = "1";
      out.push_back(r);
    }
    return out;
  }
  std::vector<std::string> received() {
    std::lock_guard lock(service_.mu);
    return service_.received;
  }

  FakeZerobus service_;
  std::unique_ptr<grpc::Server> server_;
  int grpc_port_ = 0;
  httplib::Server http_;
  int http_port_ = 0;
  std::thread http_thread_;
  std::unique_ptr<ZerobusSink> sink_;
};

TEST_F(SinkGrpc, DeliversBatchesWithConsecutiveOffsetsOnOneStream) {
  EXPECT_TRUE(sink_->write(batch({"a", "b"})).status.is_ok());
  EXPECT_TRUE(sink_->write(batch({"c"})).status.is_ok());
  EXPECT_EQ(received(), (std::vector<std::string>{"a", "b", "c"}));
  auto st = sink_->stats();
  EXPECT_EQ(st.streams_opened, 1u);
  EXPECT_EQ(st.records_acked, 3u);
  EXPECT_EQ(st.batches_sent, 2u);
  EXPECT_EQ(st.batches_failed, 0u);
  EXPECT_EQ(st.state, "open");
  EXPECT_EQ(service_.offset_errors, 0);
}

TEST_F(SinkGrpc, PoisonRecordIsIsolatedAndItsBatchMatesDelivered) {
  auto r = sink_->write(batch({"a", "b", "c", "d", "poison", "f", "g"}));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].index, 4u);
  EXPECT_NE(r.rejected[0].reason.find("INVALID_ARGUMENT"), std::string::npos);
  EXPECT_NE(r.rejected[0].reason.find("4044"), std::string::npos);
  auto got = received();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c", "d", "f", "g"}));  // each once
  EXPECT_EQ(sink_->stats().records_rejected, 1u);
}

TEST_F(SinkGrpc, AckForUnknownOffsetResetsTheStreamAndTheRetryRecovers) {
  service_.modes = {Mode::kUnknownAck};
  auto r = sink_->write(batch({"a"}));
  EXPECT_FALSE(r.status.is_ok());
  EXPECT_TRUE(r.status.is_retryable());
  EXPECT_NE(r.status.message().find("unknown offset 3"), std::string::npos);
  EXPECT_EQ(sink_->stats().protocol_errors, 1u);
  EXPECT_TRUE(sink_->write(batch({"a"})).status.is_ok());  // the lane's retry: new stream, offset 0
  EXPECT_EQ(received(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(sink_->stats().streams_opened, 2u);
  EXPECT_EQ(service_.offset_errors, 0);
}

TEST_F(SinkGrpc, AckSilenceTimesOut) {
  service_.modes = {Mode::kSilence};
  auto r = sink_->write(batch({"a"}));
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(sink_->stats().ack_timeouts, 1u);
  EXPECT_TRUE(sink_->write(batch({"a"})).status.is_ok());
}

TEST_F(SinkGrpc, CloseSignalMovesTheNextBatchToANewStream) {
  service_.modes = {Mode::kCloseAfterAck};
  EXPECT_TRUE(sink_->write(batch({"a"})).status.is_ok());
  auto second = sink_->write(batch({"b"}));
  EXPECT_TRUE(second.status.is_ok()) << second.status.to_string();
  auto st = sink_->stats();
  EXPECT_EQ(st.close_signals, 1u);
  EXPECT_EQ(st.stream_resets, 0u) << st.last_error;
  EXPECT_EQ(received(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(SinkGrpc, AbruptEndBetweenBatchesLosesNothing) {
  service_.modes = {Mode::kEndAfterAck};
  EXPECT_TRUE(sink_->write(batch({"a"})).status.is_ok());
  auto r = sink_->write(batch({"b"}));
  // Either the end was seen before sending (new stream) or the request hit the dead
  // stream: then the answer is a retry, and the lane's retry delivers it.
  if (!r.status.is_ok()) {
    EXPECT_TRUE(r.status.is_retryable()) << r.status.to_string();
    EXPECT_TRUE(sink_->write(batch({"b"})).status.is_ok());
  }
  EXPECT_EQ(received(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(SinkGrpc, UnavailableIsRetryable) {
  service_.modes = {Mode::kUnavailable};
  auto r = sink_->write(batch({"a"}));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(sink_->write(batch({"a"})).status.is_ok());
  EXPECT_EQ(sink_->stats().stream_resets, 1u);
  EXPECT_EQ(sink_->stats().batches_failed, 1u);
}

TEST_F(SinkGrpc, SchemaCheckRejectsBeforeSending) {
  auto b = batch({"a", "b"});
  b[1].value_str = std::string("\xff\xfe", 2);
  auto r = sink_->write(b);
  ASSERT_TRUE(r.status.is_ok());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].index, 1u);
  EXPECT_NE(r.rejected[0].reason.find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(received(), (std::vector<std::string>{"a"}));
}

TEST_F(SinkGrpc, ServerDownIsRetryable) {
  server_->Shutdown(std::chrono::system_clock::now());
  auto r = sink_->write(batch({"a"}));
  EXPECT_FALSE(r.status.is_ok());
  EXPECT_TRUE(r.status.is_retryable());
}

TEST_F(SinkGrpc, DiagnosticsRunEveryStep) {
  auto d = sink_->diagnose();
  ASSERT_TRUE(d["ok"].get<bool>()) << d.dump();
  ASSERT_EQ(d["steps"].size(), 4u);
  EXPECT_EQ(d["steps"][3]["step"], "stream");
}

}  // namespace
}  // namespace uc::sinks::zerobus
