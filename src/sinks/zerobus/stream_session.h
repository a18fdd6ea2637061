// The sans-IO core of one Zerobus EphemeralStream call: wire offsets, cumulative acks,
// the close signal and the lack-of-ack deadline. It takes decoded responses and the
// time as input and says what happened; it never touches a socket, so every rule of
// the protocol is unit-tested without a server (stream_session_test.cpp).
//
// Rules (docs/sinks/zerobus.md):
//  - the first response must be create_stream_response with a stream id;
//  - each request sent gets the next wire offset, 0, 1, 2... per call;
//  - an ack (durability_ack_up_to_offset = N) covers every offset <= N. An ack without
//    the field, for an offset never sent, or any second create_stream_response is a
//    protocol error: the call is reset and everything unacked is sent again;
//  - an ack that does not advance is allowed but does not reset the ack deadline
//    (only progress does), so a server repeating old acks cannot stall recovery;
//  - after close_stream_signal nothing new is sent on the call; what is in flight
//    may still be acked until the signal's duration (bounded by the ack timeout).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "zerobus_service.pb.h"

namespace uc::sinks::zerobus {

class StreamSession {
 public:
  enum class Phase { kCreating, kOpen, kClosing, kFailed };

  struct Event {
    enum class Kind { kNone, kCreated, kAcked, kCloseSignal, kError } kind = Kind::kNone;
    std::int64_t acked_up_to = -1;  // kAcked: the new cumulative ack
    std::int64_t close_in_us = 0;   // kCloseSignal: the server's announced duration
    Status error;                   // kError
  };

  // create_timeout_us bounds the wait for create_stream_response (default: the ack timeout).
  StreamSession(std::int64_t now_us, std::int64_t ack_timeout_us, std::int64_t create_timeout_us = 0);

  Phase phase() const { return phase_; }
  const std::string& stream_id() const { return stream_id_; }
  bool can_send() const { return phase_ == Phase::kOpen; }

  // The wire offset of the next request; call sent() once it is written.
  std::int64_t next_offset() const { return next_offset_; }
  std::int64_t sent(std::int64_t now_us);
  std::int64_t last_sent() const { return next_offset_ - 1; }
  std::int64_t acked() const { return acked_; }
  bool all_acked() const { return acked_ == next_offset_ - 1; }

  Event on_response(const databricks::zerobus::EphemeralStreamResponse& r, std::int64_t now_us);
  // The call ended (status from Finish); ok means the server closed it gracefully.
  Event on_end(const Status& status);

  // Absolute time by which the next progress must come, or nullopt when nothing waits.
  std::optional<std::int64_t> deadline_us() const;
  // Turns an expired deadline into a DEADLINE_EXCEEDED error (retryable).
  Event on_time(std::int64_t now_us);

 private:
  Event fail(Status s);

  Phase phase_ = Phase::kCreating;
  std::string stream_id_;
  std::int64_t ack_timeout_us_;
  std::int64_t create_timeout_us_;
  std::int64_t next_offset_ = 0;
  std::int64_t acked_ = -1;
  std::int64_t progress_at_us_;     // creation start, or the last advancing ack / first send
  std::int64_t close_deadline_us_ = 0;
};

const char* phase_name(StreamSession::Phase p);

// Maps a gRPC status code number and message onto the project's Status.
Status status_from_grpc(int code, const std::string& message);

// Zerobus error classes: data faults (the record or batch is wrong; retrying cannot
// help, so the records go to the DLQ) versus everything else (transport, server,
// credentials, configuration: retried by the lane with backoff and its breaker).
bool is_data_fault(const Status& s);

}  // namespace uc::sinks::zerobus
