#include "net/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace uc::net {
namespace {

Result<std::vector<Address>> lookup(const char* host, const std::string& port, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* res = nullptr;
  if (const int rc = ::getaddrinfo(host, port.c_str(), &hints, &res); rc != 0) {
    return unavailable(std::string("cannot resolve ") + (host != nullptr ? host : "*") + ": " + ::gai_strerror(rc));
  }
  std::vector<Address> out;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.push_back(a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) return unavailable(std::string("no address for ") + (host != nullptr ? host : "*"));
  return out;
}

}  // namespace

int Address::port() const {
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

const sockaddr* Address::sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage); }

std::string Address::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(port());
  }
  const auto* a4 = reinterpret_cast<const sockaddr_in*>(&storage);
  ::inet_ntop(AF_INET, &a4->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(port());
}

Result<std::vector<Address>> resolve(const std::string& host, const std::string& port) {
  return lookup(host.c_str(), port, 0);
}

Result<std::vector<Address>> resolve_numeric(const std::string& host, int port) {
  if (port < 0 || port > 65535) return invalid_argument("port out of range: " + std::to_string(port));
  auto r = lookup(host.empty() ? nullptr : host.c_str(), std::to_string(port),
                  AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV);
  if (!r.is_ok()) return invalid_argument("not a numeric IP address: \"" + host + "\"");
  return r;
}

}  // namespace uc::net
