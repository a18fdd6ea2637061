#include "sinks/zerobus/stream_session.h"

#include <gtest/gtest.h>

namespace uc::sinks::zerobus {
namespace {

using databricks::zerobus::EphemeralStreamResponse;
using Kind = StreamSession::Event::Kind;

constexpr std::int64_t kAckTimeout = 5'000'000;

EphemeralStreamResponse created(const std::string& id = "s-1") {
  EphemeralStreamResponse r;
  r.mutable_create_stream_response()->set_stream_id(id);
  return r;
}
EphemeralStreamResponse ack(std::int64_t n) {
  EphemeralStreamResponse r;
  r.mutable_ingest_record_response()->set_durability_ack_up_to_offset(n);
  return r;
}
EphemeralStreamResponse close_signal(std::int64_t seconds) {
  EphemeralStreamResponse r;
  r.mutable_close_stream_signal()->mutable_duration()->set_seconds(seconds);
  return r;
}

StreamSession open_session() {
  StreamSession s(0, kAckTimeout, 1'000'000);
  EXPECT_EQ(s.on_response(created(), 10).kind, Kind::kCreated);
  return s;
}

TEST(StreamSession, CreateThenOffsetsCountFromZero) {
  StreamSession s(0, kAckTimeout);
  EXPECT_FALSE(s.can_send());
  EXPECT_EQ(s.on_response(created("abc"), 5).kind, Kind::kCreated);
  EXPECT_EQ(s.stream_id(), "abc");
  EXPECT_TRUE(s.can_send());
  EXPECT_EQ(s.sent(10), 0);
  EXPECT_EQ(s.sent(11), 1);
  EXPECT_EQ(s.sent(12), 2);
  EXPECT_EQ(s.next_offset(), 3);
}

TEST(StreamSession, CumulativeAckCoversEarlierOffsets) {
  StreamSession s = open_session();
  for (int i = 0; i < 3; ++i) s.sent(20);
  auto e = s.on_response(ack(1), 30);
  EXPECT_EQ(e.kind, Kind::kAcked);
  EXPECT_EQ(e.acked_up_to, 1);
  EXPECT_FALSE(s.all_acked());
  EXPECT_EQ(s.on_response(ack(2), 31).kind, Kind::kAcked);
  EXPECT_TRUE(s.all_acked());
  EXPECT_FALSE(s.deadline_us().has_value());
}

TEST(StreamSession, AckForUnknownOffsetIsAProtocolError) {
  StreamSession s = open_session();
  s.sent(20);
  auto e = s.on_response(ack(5), 30);
  EXPECT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error.code(), StatusCode::kInternal);
  EXPECT_TRUE(e.error.is_retryable());
  EXPECT_NE(e.error.message().find("unknown offset 5"), std::string::npos);
  EXPECT_EQ(s.phase(), StreamSession::Phase::kFailed);
  EXPECT_FALSE(s.can_send());
}

TEST(StreamSession, NegativeAckBelowMinusOneIsAnError) {
  StreamSession s = open_session();
  s.sent(20);
  EXPECT_EQ(s.on_response(ack(-7), 30).kind, Kind::kError);
}

TEST(StreamSession, AckWithoutOffsetIsAnError) {
  StreamSession s = open_session();
  s.sent(20);
  EphemeralStreamResponse r;
  r.mutable_ingest_record_response();
  EXPECT_EQ(s.on_response(r, 30).kind, Kind::kError);
}

TEST(StreamSession, EmptyResponseAndSecondCreateAreErrors) {
  {
    StreamSession s = open_session();
    EXPECT_EQ(s.on_response(EphemeralStreamResponse(), 30).kind, Kind::kError);
  }
  {
    StreamSession s = open_session();
    EXPECT_EQ(s.on_response(created(), 30).kind, Kind::kError);
  }
  {
    StreamSession s(0, kAckTimeout);
    EXPECT_EQ(s.on_response(ack(0), 1).kind, Kind::kError);  // ack before create
  }
  {
    StreamSession s(0, kAckTimeout);
    EXPECT_EQ(s.on_response(created(""), 1).kind, Kind::kError);  // no stream id
  }
}

TEST(StreamSession, RepeatedAcksDoNotExtendTheDeadline) {
  StreamSession s = open_session();
  s.sent(100);
  s.sent(100);
  EXPECT_EQ(s.on_response(ack(0), 200).kind, Kind::kAcked);
  ASSERT_EQ(s.deadline_us(), 200 + kAckTimeout);
  EXPECT_EQ(s.on_response(ack(0), 3'000'000).kind, Kind::kNone);  // not progress
  EXPECT_EQ(s.deadline_us(), 200 + kAckTimeout);
  EXPECT_EQ(s.on_time(200 + kAckTimeout - 1).kind, Kind::kNone);
  auto e = s.on_time(200 + kAckTimeout);
  EXPECT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error.code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(e.error.is_retryable());
}

TEST(StreamSession, CreateTimeout) {
  StreamSession s(0, kAckTimeout, 1'000'000);
  EXPECT_EQ(s.deadline_us(), 1'000'000);
  EXPECT_EQ(s.on_time(1'000'000).error.code(), StatusCode::kDeadlineExceeded);
}

TEST(StreamSession, CloseSignalStopsSendingAndBoundsTheWait) {
  StreamSession s = open_session();
  s.sent(100);
  auto e = s.on_response(close_signal(2), 200);
  EXPECT_EQ(e.kind, Kind::kCloseSignal);
  EXPECT_EQ(e.close_in_us, 2'000'000);
  EXPECT_FALSE(s.can_send());
  EXPECT_EQ(s.deadline_us(), 200 + 2'000'000);
  EXPECT_EQ(s.on_response(ack(0), 300).kind, Kind::kAcked);  // in-flight may still be acked
  EXPECT_FALSE(s.deadline_us().has_value());
  EXPECT_EQ(s.on_end(Status::ok()).kind, Kind::kNone);  // clean end, nothing lost
}

TEST(StreamSession, CloseSignalWithUnackedAtDeadlineIsRetryable) {
  StreamSession s = open_session();
  s.sent(100);
  s.on_response(close_signal(1), 200);
  auto e = s.on_time(200 + 1'000'000);
  EXPECT_EQ(e.kind, Kind::kError);
  EXPECT_TRUE(e.error.is_retryable());
}

TEST(StreamSession, CloseSignalDurationIsClampedByAckTimeout) {
  StreamSession s = open_session();
  s.sent(100);
  s.on_response(close_signal(100000), 200);
  EXPECT_EQ(s.deadline_us(), 100 + kAckTimeout);
}

TEST(StreamSession, GracefulEndWithUnackedIsRetryable) {
  StreamSession s = open_session();
  s.sent(100);
  auto e = s.on_end(Status::ok());
  EXPECT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error.code(), StatusCode::kUnavailable);
}

TEST(StreamSession, EndStatusPassesThrough) {
  StreamSession s = open_session();
  s.sent(100);
  auto e = s.on_end(invalid_argument("Record decoder/encoder error. Error Code: 4044"));
  EXPECT_EQ(e.error.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(is_data_fault(e.error));
  EXPECT_EQ(s.on_response(ack(0), 1).kind, Kind::kNone);  // ignored once failed
}

TEST(StreamSession, GrpcCodesMapAndClassify) {
  EXPECT_EQ(status_from_grpc(14, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(status_from_grpc(16, "x").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(status_from_grpc(99, "x").code(), StatusCode::kUnknown);
  EXPECT_TRUE(status_from_grpc(0, "").is_ok());
  EXPECT_TRUE(is_data_fault(Status(StatusCode::kOutOfRange, "")));
  EXPECT_FALSE(is_data_fault(Status(StatusCode::kUnauthenticated, "")));
  EXPECT_FALSE(is_data_fault(Status(StatusCode::kNotFound, "")));
}

}  // namespace
}  // namespace uc::sinks::zerobus
