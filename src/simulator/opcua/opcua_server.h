// The simulator's OPC UA server on TCP (opc.tcp, security policy None): a listener
// thread, one reader thread per connection, and one engine thread that advances values
// and subscriptions every 10 ms. The services are ServerCore's; this file only moves
// frames: Hello/Acknowledge, the secure channel (SecureChannel from protocols/opcua),
// and the request/response bodies. One mutex serialises every call into the core; each
// connection has its own lock for its channel and socket writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "simulator/opcua/server_core.h"

namespace uc::simulator::opcua {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 4840;  // 0: any free port (see port())
  AddressSpaceOptions space;
  std::optional<std::string> user, password;
  std::size_t max_connections = 64;
};

struct ServerStats {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t publish_responses = 0;
  std::uint64_t notifications = 0;
  std::uint64_t protocol_errors = 0;
  std::size_t sessions = 0;
  std::size_t monitored_items = 0;
};

class OpcUaServer {
 public:
  explicit OpcUaServer(ServerOptions options);
  ~OpcUaServer();
  OpcUaServer(const OpcUaServer&) = delete;
  OpcUaServer& operator=(const OpcUaServer&) = delete;

  // Builds the address space, binds and listens on the calling thread (a busy port is
  // reported here), then serves on its own threads.
  Status start();
  void stop();
  int port() const { return port_; }
  std::string endpoint_url() const;
  ServerStats stats() const;

 private:
  struct Impl;
  ServerOptions options_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uc::simulator::opcua
