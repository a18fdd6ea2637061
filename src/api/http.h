// The API's own request/response types, so handlers and the route table do not
// depend on the HTTP library (cpp-httplib stays inside api_server.cpp).
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace uc::api {

inline constexpr const char* kJsonContentType = "application/json";
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Request {
  std::string method;                              // upper case; HEAD requests reach GET routes with method "HEAD"
  std::string path;                                // percent-decoded, without the query
  std::map<std::string, std::string> path_params;  // {name} segments of the route pattern
  std::multimap<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> headers;      // names lower-cased; first value wins
  std::string body;                                // at most Options::max_body_bytes
  std::string client;                              // the peer's address ("127.0.0.1")

  std::optional<std::string> header(std::string_view lower_case_name) const;
  std::optional<std::string> query_value(std::string_view name) const;
  std::string path_param(std::string_view name) const;  // "" when absent
};

struct Response {
  int status = 200;
  std::string content_type = kJsonContentType;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // JSON bodies are serialized with invalid UTF-8 replaced (U+FFFD), never thrown on.
  static Response json(const nlohmann::json& body, int status = 200);
  // Every API error has one shape:
  //   {"error": {"code": "<short_snake_code>", "message": "...", "details": {...}}}
  // code is stable (clients branch on it), message is for people, details is an object
  // (empty when there is nothing more to say).
  static Response error(int status, std::string_view code, std::string_view message,
                        nlohmann::json details = nlohmann::json::object());
  // The same with the status's generic code (error_code_for).
  static Response error(int status, std::string_view message);
  // A failed Status as an error: INVALID_ARGUMENT 400, NOT_FOUND 404, ALREADY_EXISTS and
  // FAILED_PRECONDITION 409, UNIMPLEMENTED 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504,
  // anything else 500.
  static Response from_status(const Status& status);
  static Response text(std::string body, std::string content_type, int status = 200);
};

// The generic code of an HTTP error status: 400 "bad_request", 404 "not_found",
// 405 "method_not_allowed", 409 "conflict", 413 "body_too_large", ... "error" for others.
std::string_view error_code_for(int status);

// Runs on one of the server's worker threads, concurrently with other requests.
// An exception becomes a 500 with code "internal"; its text is logged, never sent.
using Handler = std::function<Response(const Request&)>;

std::string dump_json(const nlohmann::json& j);

// A query parameter that must be an integer in [0, max]: fallback when absent; nullopt (and
// *error set to a message naming the parameter) when malformed or out of range.
std::optional<std::size_t> query_size(const Request& req, std::string_view name, std::size_t fallback,
                                      std::size_t max, std::string* error);

}  // namespace uc::api
