#include "sinks/zerobus/stream_session.h"

#include <algorithm>

namespace uc::sinks::zerobus {

using databricks::zerobus::EphemeralStreamResponse;

StreamSession::StreamSession(std::int64_t now_us, std::int64_t ack_timeout_us, std::int64_t create_timeout_us)
    : ack_timeout_us_(ack_timeout_us),
      create_timeout_us_(create_timeout_us > 0 ? create_timeout_us : ack_timeout_us),
      progress_at_us_(now_us) {}

std::int64_t StreamSession::sent(std::int64_t now_us) {
  if (all_acked()) progress_at_us_ = now_us;  // the clock starts when something waits
  return next_offset_++;
}

StreamSession::Event StreamSession::fail(Status s) {
  phase_ = Phase::kFailed;
  Event e;
  e.kind = Event::Kind::kError;
  e.error = std::move(s);
  return e;
}

StreamSession::Event StreamSession::on_response(const EphemeralStreamResponse& r, std::int64_t now_us) {
  if (phase_ == Phase::kFailed) return {};
  Event e;
  switch (r.payload_case()) {
    case EphemeralStreamResponse::kCreateStreamResponse:
      if (phase_ != Phase::kCreating) return fail(internal_error("unexpected create_stream_response mid-stream"));
      if (!r.create_stream_response().has_stream_id() || r.create_stream_response().stream_id().empty()) {
        return fail(internal_error("create_stream_response without a stream id"));
      }
      stream_id_ = r.create_stream_response().stream_id();
      phase_ = Phase::kOpen;
      progress_at_us_ = now_us;
      e.kind = Event::Kind::kCreated;
      return e;
    case EphemeralStreamResponse::kIngestRecordResponse: {
      if (phase_ == Phase::kCreating) return fail(internal_error("ack before create_stream_response"));
      if (!r.ingest_record_response().has_durability_ack_up_to_offset()) {
        return fail(internal_error("ack without durability_ack_up_to_offset"));
      }
      std::int64_t n = r.ingest_record_response().durability_ack_up_to_offset();
      if (n > last_sent() || n < -1) {
        return fail(internal_error("ack for unknown offset " + std::to_string(n) + " (last sent " +
                                   std::to_string(last_sent()) + ")"));
      }
      if (n <= acked_) return {};  // not progress; the deadline keeps running
      acked_ = n;
      progress_at_us_ = now_us;
      e.kind = Event::Kind::kAcked;
      e.acked_up_to = n;
      return e;
    }
    case EphemeralStreamResponse::kCloseStreamSignal: {
      if (phase_ == Phase::kCreating) return fail(unavailable("close_stream_signal before the stream was created"));
      std::int64_t d = 0;
      if (r.close_stream_signal().has_duration()) {
        const auto& dur = r.close_stream_signal().duration();
        d = std::clamp<std::int64_t>(dur.seconds(), 0, 3600) * 1'000'000 +
            std::clamp<std::int64_t>(dur.nanos(), 0, 999'999'999) / 1000;
      }
      phase_ = Phase::kClosing;
      close_deadline_us_ = now_us + std::min(d, ack_timeout_us_);
      e.kind = Event::Kind::kCloseSignal;
      e.close_in_us = d;
      return e;
    }
    case EphemeralStreamResponse::PAYLOAD_NOT_SET:
      break;
  }
  return fail(internal_error("response with no known payload"));
}

StreamSession::Event StreamSession::on_end(const Status& status) {
  if (phase_ == Phase::kFailed) return {};
  if (status.is_ok()) {
    if (phase_ == Phase::kCreating) return fail(unavailable("stream closed by the server before it was created"));
    if (!all_acked()) return fail(unavailable("stream closed by the server with unacknowledged requests"));
    phase_ = Phase::kFailed;  // nothing lost, but the call is over
    return {};
  }
  return fail(status);
}

std::optional<std::int64_t> StreamSession::deadline_us() const {
  if (phase_ == Phase::kFailed) return std::nullopt;
  if (phase_ == Phase::kClosing) {
    if (all_acked()) return std::nullopt;
    return std::min(close_deadline_us_, progress_at_us_ + ack_timeout_us_);
  }
  if (phase_ == Phase::kCreating) return progress_at_us_ + create_timeout_us_;
  if (!all_acked()) return progress_at_us_ + ack_timeout_us_;
  return std::nullopt;
}

StreamSession::Event StreamSession::on_time(std::int64_t now_us) {
  auto d = deadline_us();
  if (!d || now_us < *d) return {};
  if (phase_ == Phase::kCreating) return fail(Status(StatusCode::kDeadlineExceeded, "no create_stream_response in time"));
  if (phase_ == Phase::kClosing) {
    return fail(unavailable("stream closing (server close signal) with requests still unacknowledged"));
  }
  return fail(Status(StatusCode::kDeadlineExceeded, "server ack timeout"));
}

const char* phase_name(StreamSession::Phase p) {
  switch (p) {
    case StreamSession::Phase::kCreating: return "creating";
    case StreamSession::Phase::kOpen: return "open";
    case StreamSession::Phase::kClosing: return "closing";
    case StreamSession::Phase::kFailed: return "closed";
  }
  return "closed";
}

Status status_from_grpc(int code, const std::string& message) {
  if (code <= 0 || code > 16) return code == 0 ? Status::ok() : Status(StatusCode::kUnknown, message);
  return Status(static_cast<StatusCode>(code), message);
}

bool is_data_fault(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kOutOfRange;
}

}  // namespace uc::sinks::zerobus
