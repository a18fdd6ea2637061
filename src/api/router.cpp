#include "api/router.h"

#include <algorithm>
#include <set>

namespace uc::api {

namespace {

// "/a/b" -> {"a", "b"}; "/" -> {}; "/a/" -> {"a", ""}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path == "/") return parts;
  std::size_t start = path.front() == '/' ? 1 : 0;
  while (true) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(path.substr(start));
      break;
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

bool is_param_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

bool Router::is_supported_method(std::string_view method) {
  return method == "GET" || method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH";
}

Status Router::add(std::string_view method, std::string_view pattern, Handler handler, std::string summary) {
  if (!is_supported_method(method)) {
    return invalid_argument("route method must be GET, POST, PUT, DELETE or PATCH, got '" + std::string(method) + "'");
  }
  if (pattern.empty() || pattern.front() != '/') {
    return invalid_argument("route pattern must start with '/': '" + std::string(pattern) + "'");
  }
  if (!handler) return invalid_argument("route " + std::string(pattern) + " has no handler");
  Route route;
  route.method = std::string(method);
  route.pattern = std::string(pattern);
  route.handler = std::move(handler);
  route.summary = std::move(summary);
  std::set<std::string_view> names;
  const auto parts = split_path(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    Segment seg;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      auto name = part.substr(1, part.size() - 2);
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        if (i + 1 != parts.size()) {
          return invalid_argument("route " + std::string(pattern) + ": '" + std::string(part) +
                                  "' must be the last segment");
        }
        name.remove_suffix(3);
        seg.is_rest = true;
      }
      if (!is_param_name(name) || !names.insert(name).second) {
        return invalid_argument("route " + std::string(pattern) + ": bad or repeated parameter '" + std::string(part) +
                                "'");
      }
      seg.text = std::string(name);
      seg.is_param = true;
    } else {
      if (part.empty() || part.find_first_of("{}") != std::string_view::npos) {
        return invalid_argument("route " + std::string(pattern) + ": bad segment '" + std::string(part) + "'");
      }
      seg.text = std::string(part);
    }
    route.segments.push_back(std::move(seg));
  }
  for (const auto& r : routes_) {
    if (r.method != route.method || r.segments.size() != route.segments.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < r.segments.size() && same; ++i) {
      const auto& a = r.segments[i];
      const auto& b = route.segments[i];
      same = a.is_param == b.is_param && a.is_rest == b.is_rest && (a.is_param || a.text == b.text);
    }
    if (same) {
      return Status(StatusCode::kAlreadyExists,
                    "route " + route.method + " " + route.pattern + " clashes with " + r.pattern);
    }
  }
  routes_.push_back(std::move(route));
  return Status::ok();
}

bool Router::matches(const Route& route, const std::vector<std::string_view>& parts,
                     std::map<std::string, std::string>* params) {
  const bool rest = !route.segments.empty() && route.segments.back().is_rest;
  if (rest ? parts.size() < route.segments.size() : parts.size() != route.segments.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = route.segments[std::min(i, route.segments.size() - 1)];
    if (seg.is_param) {
      if (parts[i].empty()) return false;
    } else if (seg.text != parts[i]) {
      return false;
    }
  }
  if (params != nullptr) {
    params->clear();
    for (std::size_t i = 0; i < route.segments.size(); ++i) {
      const auto& seg = route.segments[i];
      if (!seg.is_param) continue;
      std::string value(parts[i]);
      for (std::size_t k = i + 1; seg.is_rest && k < parts.size(); ++k) value.append("/").append(parts[k]);
      (*params)[seg.text] = std::move(value);
    }
  }
  return true;
}

bool Router::more_specific(const Route& a, const Route& b) {
  // 0 literal, 1 {name}, 2 {name...}: the lower rank at the first difference wins.
  auto rank = [](const Segment& s) { return s.is_rest ? 2 : s.is_param ? 1 : 0; };
  for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (rank(a.segments[i]) != rank(b.segments[i])) return rank(a.segments[i]) < rank(b.segments[i]);
  }
  return false;
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back({r.method, r.pattern, r.summary});
  return out;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  if (path.empty() || path.front() != '/') return m;
  const auto parts = split_path(path);
  const std::string_view effective = method == "HEAD" ? std::string_view("GET") : method;
  const Route* best = nullptr;
  std::set<std::string> allowed;
  for (const auto& route : routes_) {
    if (!matches(route, parts, nullptr)) continue;
    allowed.insert(route.method);
    if (route.method == "GET") allowed.insert("HEAD");
    if (route.method == effective && (best == nullptr || more_specific(route, *best))) best = &route;
  }
  if (!allowed.empty()) allowed.insert("OPTIONS");
  m.allowed_methods.assign(allowed.begin(), allowed.end());
  if (best != nullptr) {
    matches(*best, parts, &m.params);
    m.handler = &best->handler;
  }
  return m;
}

}  // namespace uc::api
