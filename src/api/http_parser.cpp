#include "api/http_parser.h"

#include <algorithm>

namespace uc::api {

namespace {

constexpr std::size_t kMaxChunkLineBytes = 1024;
constexpr std::size_t kMaxContentLengthDigits = 19;  // < 10^19 fits in uint64
constexpr std::size_t kMaxChunkSizeDigits = 15;       // < 2^60

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return to_lower(x) == to_lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = to_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_served_method(std::string_view m) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (m == known) return true;
  }
  return false;
}

// True when every comma-separated element of a header value is `token` (any case).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool parse_query(std::string_view query, std::multimap<std::string, std::string>* out) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const auto eq = item.find('=');
      std::string key, value;
      if (!percent_decode(item.substr(0, eq), true, &key)) return false;
      if (eq != std::string_view::npos && !percent_decode(item.substr(eq + 1), true, &value)) return false;
      out->emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return true;
}

}  // namespace

bool percent_decode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return false;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out->push_back(c);
  }
  return true;
}

RequestParser::RequestParser(HttpLimits limits) : limits_(limits) {}

void RequestParser::reset() {
  const HttpLimits limits = limits_;
  *this = RequestParser(limits);
}

std::size_t RequestParser::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (state_ == State::kNeedMore && used < bytes.size()) {
    started_ = true;
    const std::string_view rest = bytes.substr(used);
    switch (phase_) {
      case Phase::kBody:
        used += feed_body(rest);
        break;
      case Phase::kChunkData:
        used += feed_chunk_data(rest);
        break;
      default:
        used += feed_line_phase(rest);
        break;
    }
  }
  return used;
}

// Gathers one CRLF-terminated line (across feeds) under the phase's length limit; a line
// over it is refused after at most one byte too many, however much was offered.
std::size_t RequestParser::feed_line_phase(std::string_view bytes) {
  const bool header_phase = phase_ == Phase::kHeaders || phase_ == Phase::kTrailers;
  std::size_t allowance = kMaxChunkLineBytes;
  if (phase_ == Phase::kRequestLine) {
    allowance = std::min(limits_.max_target_bytes + 32, limits_.max_header_bytes);
  } else if (header_phase) {
    allowance = limits_.max_header_bytes - std::min(header_bytes_, limits_.max_header_bytes);
  }
  const auto newline = bytes.find('\n');
  std::size_t take = newline == std::string_view::npos ? bytes.size() : newline;
  if (line_.size() + take > allowance) {
    take = allowance + 1 - std::min(line_.size(), allowance);
    if (phase_ == Phase::kRequestLine) {
      fail(414, "request target longer than " + std::to_string(limits_.max_target_bytes) + " bytes");
    } else if (header_phase) {
      fail(431, "request header fields longer than " + std::to_string(limits_.max_header_bytes) + " bytes");
    } else {
      fail(400, "chunk size line too long");
    }
    return take;
  }
  line_.append(bytes.substr(0, take));
  if (newline == std::string_view::npos) return take;
  if (line_.empty() || line_.back() != '\r') {
    fail(400, "line not terminated by CRLF");
    return take + 1;
  }
  line_.pop_back();
  header_bytes_ += line_.size() + 2;
  const std::string line = std::move(line_);
  line_.clear();
  on_line(line);
  return take + 1;
}

void RequestParser::on_line(std::string_view line) {
  switch (phase_) {
    case Phase::kRequestLine:
      if (line.empty() && !skipped_empty_line_) {
        skipped_empty_line_ = true;
        header_bytes_ = 0;
        return;
      }
      on_request_line(line);
      return;
    case Phase::kHeaders:
      if (line.empty()) {
        on_headers_done();
      } else {
        on_header_line(line);
      }
      return;
    case Phase::kChunkSize:
      on_chunk_size_line(line);
      return;
    case Phase::kChunkDataEnd:
      if (!line.empty()) {
        fail(400, "chunk data longer than its size");
        return;
      }
      phase_ = Phase::kChunkSize;
      return;
    case Phase::kTrailers:
      if (line.empty()) complete();  // trailer fields are read and ignored
      return;
    default:
      return;
  }
}

void RequestParser::on_request_line(std::string_view line) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
    fail(400, "malformed request line (expected: METHOD /path HTTP/1.1)");
    return;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "malformed request method");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || !is_digit(version[5]) ||
      !is_digit(version[7])) {
    return fail(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return fail(505, "HTTP version " + std::string(version) + " not supported (HTTP/1.0 and 1.1 are)");
  }
  if (target.size() > limits_.max_target_bytes) {
    return fail(414, "request target longer than " + std::to_string(limits_.max_target_bytes) + " bytes");
  }
  if (target.empty() || target.front() != '/' ||
      std::any_of(target.begin(), target.end(), [](char c) { return c <= 0x20 || c >= 0x7f || c == '#'; })) {
    return fail(400, "request target must be a path starting with '/'");
  }
  if (!is_served_method(method)) return fail(501, "method " + std::string(method) + " not implemented");
  request_.method = std::string(method);
  request_.target = std::string(target);
  request_.minor_version = version[7] - '0';
  const auto q = target.find('?');
  if (!percent_decode(target.substr(0, q), false, &request_.path) ||
      (q != std::string_view::npos && !parse_query(target.substr(q + 1), &request_.query))) {
    return fail(400, "bad percent-encoding in the request target");
  }
  phase_ = Phase::kHeaders;
}

void RequestParser::on_header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') return fail(400, "folded header line (obs-fold)");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    return fail(400, "malformed header line");
  }
  const std::string_view value = trim(line.substr(colon + 1));
  if (std::any_of(value.begin(), value.end(), [](char c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f; })) {
    return fail(400, "control character in a header value");
  }
  if (phase_ == Phase::kTrailers) return;
  if (request_.headers.size() >= limits_.max_headers) {
    return fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
  }
  request_.headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
}

void RequestParser::on_headers_done() {
  const bool http10 = request_.minor_version == 0;
  request_.keep_alive = !http10;
  std::string content_length;
  int transfer_encodings = 0;
  std::string transfer_encoding;
  for (const auto& [name, value] : request_.headers) {
    if (name == "content-length") {
      if (value.empty() || value.size() > kMaxContentLengthDigits ||
          !std::all_of(value.begin(), value.end(), is_digit)) {
        return fail(400, "Content-Length must be a decimal number of bytes, got \"" + value.substr(0, 40) + "\"");
      }
      if (!content_length.empty() && content_length != value) return fail(400, "two different Content-Length values");
      content_length = value;
    } else if (name == "transfer-encoding") {
      ++transfer_encodings;
      transfer_encoding = value;
    } else if (name == "connection") {
      if (has_token(value, "close")) request_.keep_alive = false;
      if (http10 && has_token(value, "keep-alive")) request_.keep_alive = true;
    } else if (name == "expect") {
      request_.expects_continue = iequals(value, "100-continue");
    } else if (name == "content-type" && lower(value).rfind("multipart/", 0) == 0) {
      error_status_ = 415;
      error_message_ = "multipart bodies are not supported";
    } else if (name == "content-encoding" && !iequals(value, "identity")) {
      error_status_ = 415;
      error_message_ = "Content-Encoding " + value.substr(0, 40) + " is not supported (send the body uncompressed)";
    }
  }
  if (transfer_encodings > 0) {
    if (!content_length.empty()) return fail(400, "both Content-Length and Transfer-Encoding");
    if (http10) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (transfer_encodings > 1 || !iequals(transfer_encoding, "chunked")) {
      return fail(501, "Transfer-Encoding \"" + transfer_encoding.substr(0, 40) + "\" not supported (chunked is)");
    }
    chunked_ = true;
    body_dropped_ = error_status_ != 0;
    phase_ = Phase::kChunkSize;
    return;
  }
  remaining_ = content_length.empty() ? 0 : std::stoull(content_length);
  if (remaining_ > limits_.max_drain_bytes) {
    return fail(413, "request body too large (limit " + std::to_string(limits_.max_body_bytes) + " bytes)");
  }
  body_dropped_ = error_status_ != 0;
  if (remaining_ > limits_.max_body_bytes) append_body({});  // marks it too large before any byte
  if (remaining_ == 0) return complete();
  phase_ = Phase::kBody;
}

void RequestParser::on_chunk_size_line(std::string_view line) {
  const std::string_view size_text = trim(line.substr(0, line.find(';')));
  if (size_text.empty() || size_text.size() > kMaxChunkSizeDigits) return fail(400, "malformed chunk size");
  std::uint64_t size = 0;
  for (char c : size_text) {
    const int v = hex_value(c);
    if (v < 0) return fail(400, "malformed chunk size");
    size = size * 16 + static_cast<std::uint64_t>(v);
  }
  if (size == 0) {
    phase_ = Phase::kTrailers;
    return;
  }
  if (body_seen_ + size > limits_.max_drain_bytes) {
    return fail(413, "request body too large (limit " + std::to_string(limits_.max_body_bytes) + " bytes)");
  }
  remaining_ = size;
  if (body_seen_ + size > limits_.max_body_bytes) append_body({});
  phase_ = Phase::kChunkData;
}

std::size_t RequestParser::feed_body(std::string_view bytes) {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
  append_body(bytes.substr(0, n));
  remaining_ -= n;
  if (remaining_ == 0) complete();
  return n;
}

std::size_t RequestParser::feed_chunk_data(std::string_view bytes) {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
  append_body(bytes.substr(0, n));
  remaining_ -= n;
  if (remaining_ == 0) phase_ = Phase::kChunkDataEnd;
  return n;
}

// Keeps the body up to max_body_bytes; from the first byte beyond (or when the declared
// length is already beyond: called with no data) it is dropped and the answer is 413.
void RequestParser::append_body(std::string_view data) {
  body_seen_ += data.size();
  if (body_dropped_) return;
  const bool declared_too_large = data.empty() && (body_seen_ + remaining_ > limits_.max_body_bytes);
  if (declared_too_large || request_.body.size() + data.size() > limits_.max_body_bytes) {
    body_dropped_ = true;
    std::string().swap(request_.body);
    error_status_ = 413;
    error_message_ = "request body too large (limit " + std::to_string(limits_.max_body_bytes) + " bytes)";
    return;
  }
  request_.body.append(data);
}

void RequestParser::complete() {
  phase_ = Phase::kDone;
  state_ = State::kComplete;
  if (error_status_ != 0) std::string().swap(request_.body);
}

void RequestParser::fail(int status, std::string message) {
  state_ = State::kError;
  error_status_ = status;
  error_message_ = std::move(message);
  request_.keep_alive = false;
}

}  // namespace uc::api
