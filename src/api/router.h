// Route table: method + path pattern -> handler.
//
// Patterns are absolute paths whose segments are literals or `{name}`
// placeholders matching one non-empty segment: "/api/sources/{name}/start".
// The last segment may be `{name...}`: it matches one or more non-empty segments and
// the parameter is their text joined by '/' ("/api/tags/{path...}" matches
// "/api/tags/plant/line1/temp" with path "plant/line1/temp"). The request path is
// percent-decoded before matching, so "%2F" in such a parameter is a '/' like any other.
// When several patterns match a path, the one with a literal earliest wins
// ("/api/dlq/replay" beats "/api/dlq/{id}"), and `{name}` beats `{name...}` at the same
// place. GET routes also answer HEAD.
// The table is filled before the server starts and read-only afterwards, so
// lookups take no lock.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "core/status.h"

namespace uc::api {

class Router {
 public:
  // INVALID_ARGUMENT for a bad method or pattern, ALREADY_EXISTS for a duplicate.
  // summary: one line for the OpenAPI document (openapi.h), which lists every route.
  Status add(std::string_view method, std::string_view pattern, Handler handler, std::string summary = {});

  // Every route in the order added: what is served, and so what the OpenAPI document lists.
  struct RouteInfo {
    std::string method;
    std::string pattern;
    std::string summary;
  };
  std::vector<RouteInfo> routes() const;

  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed_methods;  // for the path, sorted; empty: unknown path
  };
  Match match(std::string_view method, std::string_view path) const;

  static bool is_supported_method(std::string_view method);

 private:
  struct Segment {
    std::string text;
    bool is_param = false;
    bool is_rest = false;  // {name...}: the last segment, matching one or more
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    std::string summary;
  };
  static bool matches(const Route& route, const std::vector<std::string_view>& parts,
                      std::map<std::string, std::string>* params);
  static bool more_specific(const Route& a, const Route& b);

  std::vector<Route> routes_;
};

}  // namespace uc::api
