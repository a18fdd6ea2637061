// Socket addresses and name resolution.
//
// - resolve() blocks the calling thread in getaddrinfo(); it cannot be cancelled and has
//   the resolver's own timeouts (numeric hosts return at once). Errors: kUnavailable
//   ("cannot resolve <host>: <reason>").
// - resolve_numeric() accepts only numeric IPv4/IPv6 addresses (no DNS, never blocks);
//   an empty host means every local address (for listening). Errors: kInvalidArgument.
// - Address is a plain value.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace uc::net {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  int port() const;
  const sockaddr* sockaddr_ptr() const;
  // "127.0.0.1:4840" or "[::1]:4840"
  std::string to_string() const;
};

// Every TCP address of host:port, in the resolver's order.
Result<std::vector<Address>> resolve(const std::string& host, const std::string& port);
// host must be a numeric address or empty; for bind().
Result<std::vector<Address>> resolve_numeric(const std::string& host, int port);

}  // namespace uc::net
