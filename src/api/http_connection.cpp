#include "api/http_connection.h"

#include <limits>
#include <utility>

namespace uc::api {

namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : (status < 500 ? "Client Error" : "Server Error");
  }
}

}  // namespace

std::string serialize_response(const Response& response, bool head, bool keep_alive, int minor_version) {
  const bool has_body = response.status != 204 && response.status != 304 && response.status >= 200;
  std::string out;
  out.reserve(256 + (head ? 0 : response.body.size()));
  out += minor_version == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  if (has_body) {
    out += "Content-Type: " + response.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  }
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (minor_version == 0) {
    out += "Connection: keep-alive\r\n";
  }
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (has_body && !head) out += response.body;
  return out;
}

HttpConnection::HttpConnection(HttpLimits limits, HttpTimeouts timeouts, std::int64_t now_us)
    : limits_(limits), timeouts_(timeouts), parser_(limits), idle_since_us_(now_us) {}

void HttpConnection::on_bytes(std::string_view bytes, std::int64_t now_us) {
  if (phase_ != Phase::kReading) return;  // lingering: read and dropped
  pending_.append(bytes);
  parse(now_us);
}

// Feeds what has arrived to the parser, one request at a time, and acts on the result.
void HttpConnection::parse(std::int64_t now_us) {
  while (phase_ == Phase::kReading && !pending_.empty()) {
    if (!parser_.started()) request_started_us_ = now_us;
    const std::size_t used = parser_.feed(pending_);
    pending_.erase(0, used);
    switch (parser_.state()) {
      case RequestParser::State::kNeedMore:
        if (parser_.awaiting_body() && parser_.request().expects_continue && !continue_sent_) {
          if (parser_.error_status() != 0) {
            request_is_head_ = false;
            queue_response(Response::error(parser_.error_status(), parser_.error_message()), false, false, now_us);
            return;
          }
          if (parser_.request().minor_version == 1) out_ += "HTTP/1.1 100 Continue\r\n\r\n";
          continue_sent_ = true;
        }
        return;
      case RequestParser::State::kError:
        answer_parse_error(now_us);
        return;
      case RequestParser::State::kComplete: {
        ParsedRequest& request = parser_.request();
        request_is_head_ = request.method == "HEAD";
        request_keep_alive_ = request.keep_alive && !peer_eof_;
        if (parser_.error_status() != 0) {
          queue_response(Response::error(parser_.error_status(), parser_.error_message()), request_is_head_,
                         request_keep_alive_, now_us);
          return;
        }
        ready_ = std::move(request);
        ready_taken_ = false;
        phase_ = Phase::kHandling;
        return;
      }
    }
  }
}

void HttpConnection::answer_parse_error(std::int64_t now_us) {
  request_is_head_ = false;
  queue_response(Response::error(parser_.error_status(), parser_.error_message()), false, false, now_us);
}

void HttpConnection::on_peer_eof(std::int64_t now_us) {
  peer_eof_ = true;
  switch (phase_) {
    case Phase::kReading:
      if (parser_.started() || !pending_.empty()) {
        request_is_head_ = false;
        queue_response(Response::error(400, "incomplete request: the client closed the connection"), false, false,
                       now_us);
      } else {
        close("closed by the client");
      }
      return;
    case Phase::kHandling:
    case Phase::kWriting:
      close_after_output_ = true;
      return;
    case Phase::kLingering:
      close("closed");
      return;
    case Phase::kClosed:
      return;
  }
}

std::optional<ParsedRequest> HttpConnection::take_request() {
  if (phase_ != Phase::kHandling || ready_taken_ || !ready_) return std::nullopt;
  ready_taken_ = true;
  std::optional<ParsedRequest> out = std::move(ready_);
  ready_.reset();
  return out;
}

void HttpConnection::on_response(const Response& response, std::int64_t now_us) {
  if (phase_ != Phase::kHandling) return;
  queue_response(response, request_is_head_, request_keep_alive_, now_us);
}

void HttpConnection::queue_response(const Response& response, bool head, bool keep_alive, std::int64_t now_us) {
  close_after_output_ = close_after_output_ || !keep_alive || peer_eof_;
  out_ += serialize_response(response, head, !close_after_output_, parser_.request().minor_version);
  phase_ = Phase::kWriting;
  write_progress_us_ = now_us;
}

void HttpConnection::on_sent(std::size_t n, std::int64_t now_us) {
  out_offset_ += n;
  write_progress_us_ = now_us;
  if (!output().empty()) return;
  out_.clear();
  out_offset_ = 0;
  if (phase_ == Phase::kWriting) after_output(now_us);
}

void HttpConnection::after_output(std::int64_t now_us) {
  if (close_after_output_) {
    phase_ = Phase::kLingering;
    linger_since_us_ = now_us;
    return;
  }
  parser_.reset();
  continue_sent_ = false;
  request_started_us_ = -1;
  idle_since_us_ = now_us;
  phase_ = Phase::kReading;
  parse(now_us);
}

std::int64_t HttpConnection::deadline_us() const {
  switch (phase_) {
    case Phase::kReading:
      if (!output().empty()) return write_progress_us_ + timeouts_.write_us;
      if (parser_.started() || !pending_.empty()) return request_started_us_ + timeouts_.request_us;
      return idle_since_us_ + timeouts_.idle_us;
    case Phase::kWriting:
      return write_progress_us_ + timeouts_.write_us;
    case Phase::kLingering:
      return linger_since_us_ + timeouts_.linger_us;
    default:
      return kNever;
  }
}

void HttpConnection::on_tick(std::int64_t now_us) {
  if (now_us < deadline_us()) return;
  switch (phase_) {
    case Phase::kReading:
      if (!output().empty()) {
        close("write timeout");
      } else if (parser_.started() || !pending_.empty()) {
        request_is_head_ = false;
        queue_response(Response::error(408, "request_timeout",
                                       "request not complete within " +
                                           std::to_string(timeouts_.request_us / 1000) + " ms"),
                       false, false, now_us);
        end_reason_ = "request timeout";
      } else {
        close("idle");
      }
      return;
    case Phase::kWriting:
      close("write timeout");
      return;
    case Phase::kLingering:
      close("closed");
      return;
    default:
      return;
  }
}

void HttpConnection::close(std::string reason) {
  phase_ = Phase::kClosed;
  if (end_reason_.empty()) end_reason_ = std::move(reason);
  ready_.reset();
}

}  // namespace uc::api
