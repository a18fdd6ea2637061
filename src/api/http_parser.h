// HTTP/1.1 request parser (RFC 9112), sans-IO: bytes in, one request or one error out.
//
// Contract. feed() takes whatever bytes the socket gave, in any split, and consumes
// them until one request is complete or the framing is broken; bytes after a complete
// request stay with the caller (pipelining) and are fed again after reset(). The parser
// never blocks, reads no clock and holds at most max_header_bytes of header text and
// max_body_bytes of body.
//
// Outcomes (state()):
//   kNeedMore   give it more bytes.
//   kComplete   a whole request was framed. request() holds it; error_status() is 0, or
//               413 / 415 when the framing was fine but the body must be refused: the
//               body was read and dropped, so the connection stays usable.
//   kError      the bytes are not a request we can frame (error_status() 400, 413 when a
//               Content-Length is too large to drain, 414, 431, 501, 505); the connection
//               must be closed after the error answer. error_message() says why, for people.
//
// What it refuses: a request line without CRLF or with a target that is not origin-form
// ("/..."), a target over max_target_bytes (414), a version other than HTTP/1.0 or 1.1
// (505; none at all is 400), a method that is not a token (400) or not one we serve
// (501), header lines that are not `name: value` or are folded, header text over
// max_header_bytes or over max_headers fields (431), a Content-Length that is not a plain
// decimal (a sign, blanks inside, 20+ digits, two different values: 400), both
// Content-Length and Transfer-Encoding (400, a smuggling vector), a Transfer-Encoding
// other than "chunked" (501), malformed chunk sizes or chunk framing (400), a
// percent-encoding error or an encoded NUL in the target (400). A body over max_body_bytes
// is drained and answered 413 (Content-Length bodies over max_drain_bytes are not
// drained: kError 413). multipart/* bodies get 415, a Content-Encoding other than
// identity 415. A request with neither Content-Length nor Transfer-Encoding has no body.
// One empty line before a request line is ignored (RFC 9112 2.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uc::api {

struct HttpLimits {
  std::size_t max_target_bytes = 8 * 1024;
  std::size_t max_header_bytes = 64 * 1024;  // request line and all header lines together
  std::size_t max_headers = 100;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_drain_bytes = 64 * 1024 * 1024;
};

struct ParsedRequest {
  std::string method;                                        // as sent (upper case: methods are case-sensitive)
  std::string target;                                        // raw request-target
  std::string path;                                          // percent-decoded, without the query
  std::multimap<std::string, std::string> query;             // decoded ('+' is a space)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;
  int minor_version = 1;  // HTTP/1.<minor>
  bool keep_alive = true;
  bool expects_continue = false;  // "Expect: 100-continue"
};

class RequestParser {
 public:
  enum class State { kNeedMore, kComplete, kError };

  explicit RequestParser(HttpLimits limits = {});

  // Consumes bytes up to the end of one request (or the first error); returns how many.
  std::size_t feed(std::string_view bytes);
  // Ready for the next request on the same connection.
  void reset();

  State state() const { return state_; }
  // True once any byte of a request (or one leading empty line) has been consumed.
  bool started() const { return started_; }
  // True when the header block is complete and a body is still to come.
  bool awaiting_body() const { return phase_ == Phase::kBody || phase_ == Phase::kChunkSize ||
                                      phase_ == Phase::kChunkData || phase_ == Phase::kChunkDataEnd ||
                                      phase_ == Phase::kTrailers; }
  const ParsedRequest& request() const { return request_; }
  ParsedRequest& request() { return request_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  enum class Phase { kRequestLine, kHeaders, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone };

  std::size_t feed_line_phase(std::string_view bytes);
  std::size_t feed_body(std::string_view bytes);
  std::size_t feed_chunk_data(std::string_view bytes);
  bool take_line(std::string_view bytes, std::size_t* used, std::string_view* line);
  void on_line(std::string_view line);
  void on_request_line(std::string_view line);
  void on_header_line(std::string_view line);
  void on_headers_done();
  void on_chunk_size_line(std::string_view line);
  void append_body(std::string_view data);
  void complete();
  void fail(int status, std::string message);

  HttpLimits limits_;
  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kRequestLine;
  ParsedRequest request_;
  std::string line_;            // the line being assembled across feeds
  std::size_t header_bytes_ = 0;
  std::uint64_t remaining_ = 0;  // body or chunk bytes still to come
  std::uint64_t body_seen_ = 0;  // all body bytes, kept or dropped
  bool body_dropped_ = false;
  bool chunked_ = false;
  bool started_ = false;
  bool skipped_empty_line_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

// Percent-decodes a path or query component; false on a bad escape or a decoded NUL.
bool percent_decode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace uc::api
