#include "api/openapi.h"

#include <string>

namespace uc::api {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

nlohmann::json path_parameters(const std::string& pattern) {
  nlohmann::json params = nlohmann::json::array();
  std::size_t open = pattern.find('{');
  while (open != std::string::npos) {
    const std::size_t close = pattern.find('}', open);
    if (close == std::string::npos) break;
    std::string name = pattern.substr(open + 1, close - open - 1);
    nlohmann::json p = {{"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
    if (name.size() > 3 && name.ends_with("...")) {
      name.resize(name.size() - 3);
      p["description"] = "the rest of the path: may contain '/' (as is or encoded as %2F)";
    }
    p["name"] = std::move(name);
    params.push_back(std::move(p));
    open = pattern.find('{', close);
  }
  return params;
}

nlohmann::json error_schema() {
  return {{"type", "object"},
          {"required", {"error"}},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"required", {"code", "message", "details"}},
              {"properties",
               {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}, {"details", {{"type", "object"}}}}}}}}}};
}

nlohmann::json operation(const Router::RouteInfo& route) {
  nlohmann::json op = {
      {"summary", route.summary},
      {"responses",
       {{"200", {{"description", "OK"}}},
        {"default",
         {{"description", "An error"},
          {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}}}};
  if (auto params = path_parameters(route.pattern); !params.empty()) op["parameters"] = std::move(params);
  if (route.method == "POST" || route.method == "PUT" || route.method == "PATCH") {
    op["requestBody"] = {{"required", false}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  }
  return op;
}

}  // namespace

std::string openapi_path(std::string pattern) {
  if (const auto at = pattern.find("...}"); at != std::string::npos) pattern.erase(at, 3);
  return pattern;
}

nlohmann::json openapi_document(const Router& router) {
  nlohmann::json paths = nlohmann::json::object();
  for (const auto& route : router.routes()) paths[openapi_path(route.pattern)][lower(route.method)] = operation(route);
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "unified-connector API"}, {"version", "1"}}},
          {"paths", std::move(paths)},
          {"components", {{"schemas", {{"Error", error_schema()}}}}}};
}

}  // namespace uc::api
