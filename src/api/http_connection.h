// One HTTP/1.1 server connection as a sans-IO state machine: bytes read, responses and
// the time in; requests to run, bytes to write, "half-close" and "close" out.
//
// Life of a connection:
//   reading    the parser gathers a request. Deadlines: idle_us from the last response
//              (or the accept) while nothing of a request has arrived -> closed quietly;
//              request_us from a request's first byte to its last -> 408 and closed.
//              A framing error is answered (400, 413, 414, 431, 501, 505) and the
//              connection closed; a refused body (413, 415) that was drained is answered
//              and the connection kept.
//   handling   one request is out (take_request()); nothing is read until on_response().
//              No deadline: the handler owns its time.
//   writing    the response is being written; write_us without progress -> closed.
//              Then back to reading (pipelined bytes already received are parsed at
//              once), or, when either side asked to close, lingering.
//   lingering  everything is written: the write side is half-closed (wants_shutdown())
//              and input is read and dropped for linger_us, so the peer reads our last
//              response before the connection is reset by unread bytes. Then closed.
// "Expect: 100-continue" gets "HTTP/1.1 100 Continue" before the body, unless the
// request is already refused (then the answer goes out at once and the connection closes).
// HEAD responses carry the headers of the GET response without its body.
//
// Not thread-safe: the server's loop thread owns each connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "api/http_parser.h"

namespace uc::api {

struct HttpTimeouts {
  std::int64_t request_us = 10'000'000;  // a request's first byte to its last
  std::int64_t idle_us = 5'000'000;      // keep-alive: waiting for the next request
  std::int64_t write_us = 10'000'000;    // writing without progress
  std::int64_t linger_us = 1'000'000;    // draining input after the last response
};

class HttpConnection {
 public:
  enum class Phase { kReading, kHandling, kWriting, kLingering, kClosed };

  HttpConnection(HttpLimits limits, HttpTimeouts timeouts, std::int64_t now_us);

  // Bytes the peer sent; call only while wants_read().
  void on_bytes(std::string_view bytes, std::int64_t now_us);
  // The peer closed its write side (read returned 0).
  void on_peer_eof(std::int64_t now_us);
  // The answer to the request handed out by take_request().
  void on_response(const Response& response, std::int64_t now_us);
  // n bytes of output() were written.
  void on_sent(std::size_t n, std::int64_t now_us);
  // Applies the deadline; call when now_us >= deadline_us() (calling earlier is harmless).
  void on_tick(std::int64_t now_us);

  // The request to run, once per request (then the phase is handling).
  std::optional<ParsedRequest> take_request();
  std::string_view output() const { return std::string_view(out_).substr(out_offset_); }
  bool wants_read() const { return phase_ == Phase::kReading || phase_ == Phase::kLingering; }
  // True once all output is written and the write side should be half-closed.
  bool wants_shutdown() const { return phase_ == Phase::kLingering; }
  bool closed() const { return phase_ == Phase::kClosed; }
  // Waiting for a request with none of it received: the first to close under pressure.
  bool idle() const { return phase_ == Phase::kReading && !parser_.started() && pending_.empty() && output().empty(); }
  Phase phase() const { return phase_; }
  // When on_tick() has something to do; INT64_MAX: nothing pending on time.
  std::int64_t deadline_us() const;
  // Why the connection ended ("" while open): "idle", "request timeout", "write timeout", ...
  const std::string& end_reason() const { return end_reason_; }

 private:
  void parse(std::int64_t now_us);
  void answer_parse_error(std::int64_t now_us);
  void queue_response(const Response& response, bool head, bool keep_alive, std::int64_t now_us);
  void after_output(std::int64_t now_us);
  void close(std::string reason);

  HttpLimits limits_;
  HttpTimeouts timeouts_;
  RequestParser parser_;
  Phase phase_ = Phase::kReading;
  std::string pending_;  // received bytes not yet parsed (pipelined after a request)
  std::optional<ParsedRequest> ready_;
  bool ready_taken_ = false;
  bool request_is_head_ = false;
  bool request_keep_alive_ = true;
  bool continue_sent_ = false;
  bool close_after_output_ = false;
  bool peer_eof_ = false;
  std::string out_;
  std::size_t out_offset_ = 0;
  std::int64_t idle_since_us_ = 0;
  std::int64_t request_started_us_ = -1;
  std::int64_t write_progress_us_ = 0;
  std::int64_t linger_since_us_ = 0;
  std::string end_reason_;
};

// The bytes of a response: status line, headers (Content-Type and Content-Length unless
// 204/304, Cache-Control: no-store, X-Content-Type-Options: nosniff, Connection: close
// when not keep_alive), then the body unless head.
std::string serialize_response(const Response& response, bool head, bool keep_alive, int minor_version);

}  // namespace uc::api
