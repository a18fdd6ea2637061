#include "config/checks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include "config/config.h"

namespace uc::config {
namespace {

std::optional<int> parse_small_uint(std::string_view s, int max) {
  int v = 0;
  if (s.empty() || s.size() > 6) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > max) return std::nullopt;
  return v;
}

}  // namespace

bool is_valid_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  const std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  return false;
}

bool is_valid_cidr(std::string_view cidr) {
  const std::size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string address(cidr.substr(0, slash));
  const std::string_view prefix = cidr.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3 || prefix.front() == '+' || prefix.front() == '-') return false;
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return parse_small_uint(prefix, 32).has_value();
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) return parse_small_uint(prefix, 128).has_value();
  return false;
}

std::optional<std::string> check_path_template(std::string_view text) {
  const auto& allowed = path_template_placeholders();
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '}') return "unbalanced braces in path template \"" + std::string(text) + "\"";
    if (text[i] != '{') {
      ++i;
      continue;
    }
    const std::size_t close = text.find_first_of("{}", i + 1);
    if (close == std::string_view::npos || text[close] == '{') {
      return "unbalanced braces in path template \"" + std::string(text) + "\"";
    }
    const std::string name(text.substr(i + 1, close - i - 1));
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (const std::string& p : allowed) {
        if (!list.empty()) list += ' ';
        list += '{' + p + '}';
      }
      return "unknown placeholder \"{" + name + "}\" in path template; allowed: " + list;
    }
    i = close + 1;
  }
  return std::nullopt;
}

std::optional<HostPort> parse_host_port(std::string_view authority, int default_port) {
  HostPort out;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (out.host.empty() || out.host.find_first_of("/?#@ ") != std::string::npos) return std::nullopt;
  out.port = default_port;
  if (!rest.empty()) {
    const auto port = parse_small_uint(rest.substr(1), 65535);
    if (!port || *port == 0) return std::nullopt;
    out.port = *port;
  }
  return out;
}

}  // namespace uc::config
