#include "api/http.h"

#include <charconv>

namespace uc::api {

std::optional<std::string> Request::header(std::string_view lower_case_name) const {
  auto it = headers.find(std::string(lower_case_name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::query_value(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string Request::path_param(std::string_view name) const {
  auto it = path_params.find(std::string(name));
  return it == path_params.end() ? std::string() : it->second;
}

std::optional<std::size_t> query_size(const Request& req, std::string_view name, std::size_t fallback,
                                      std::size_t max, std::string* error) {
  auto v = req.query_value(name);
  if (!v) return fallback;
  std::size_t n = 0;
  auto res = std::from_chars(v->data(), v->data() + v->size(), n);
  if (res.ec != std::errc() || res.ptr != v->data() + v->size() || n > max) {
    *error = std::string(name) + " must be an integer between 0 and " + std::to_string(max);
    return std::nullopt;
  }
  return n;
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response Response::json(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  r.body = dump_json(body);
  return r;
}

std::string_view error_code_for(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "body_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 416: return "range_not_satisfiable";
    case 431: return "headers_too_large";
    case 500: return "internal";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    case 504: return "timeout";
    default: return "error";
  }
}

Response Response::error(int status, std::string_view code, std::string_view message, nlohmann::json details) {
  if (!details.is_object()) details = nlohmann::json{{"value", std::move(details)}};
  return json(nlohmann::json{{"error", {{"code", std::string(code)},
                                        {"message", std::string(message)},
                                        {"details", std::move(details)}}}},
              status);
}

Response Response::error(int status, std::string_view message) {
  return error(status, error_code_for(status), message);
}

Response Response::from_status(const Status& status) {
  int http = 500;
  switch (status.code()) {
    case StatusCode::kInvalidArgument: http = 400; break;
    case StatusCode::kNotFound: http = 404; break;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: http = 409; break;
    case StatusCode::kUnimplemented: http = 501; break;
    case StatusCode::kUnavailable: http = 503; break;
    case StatusCode::kDeadlineExceeded: http = 504; break;
    default: break;
  }
  const std::string_view code = status.code() == StatusCode::kAlreadyExists ? "already_exists" : error_code_for(http);
  return error(http, code, status.message());
}

Response Response::text(std::string body, std::string content_type, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

}  // namespace uc::api
