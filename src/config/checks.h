// Syntax checks shared by the config sections and the protocol parsers. Pure
// functions, no I/O (no name resolution).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace uc::config {

// [A-Za-z0-9_.-]+ : connector and source names (they end up in file names and
// metric labels).
bool is_valid_name(std::string_view name);

// localhost, ::1 / [::1], or an IPv4 address in 127.0.0.0/8.
bool is_loopback_host(std::string_view host);

// "ADDRESS/PREFIX" with an IPv4 (prefix 0..32) or IPv6 (0..128) address.
bool is_valid_cidr(std::string_view cidr);

// nullopt when every {placeholder} is one of path_template_placeholders() and the
// braces balance; otherwise the message to report.
std::optional<std::string> check_path_template(std::string_view text);

struct HostPort {
  std::string host;  // without IPv6 brackets
  int port = 0;
};
// "host", "host:port", "[v6]" or "[v6]:port" (no path). Returns nullopt if the host
// is empty or the port is not 1..65535.
std::optional<HostPort> parse_host_port(std::string_view authority, int default_port);

}  // namespace uc::config
