// The OPC UA simulator's services, sans-IO: a request body (encoding NodeId + request) in,
// a response body out; Publish requests are parked and answered from tick(). Sessions,
// subscriptions and monitored items live here; the socket side (opcua_server.cpp) owns
// the secure channels and serialises every call into this class with one mutex.
//
// Supported: GetEndpoints, FindServers, CreateSession, ActivateSession (anonymous; user
// name when configured), CloseSession, Browse, BrowseNext, TranslateBrowsePathsToNodeIds,
// Read, RegisterNodes, UnregisterNodes, CreateSubscription, ModifySubscription,
// SetPublishingMode, DeleteSubscriptions, TransferSubscriptions, CreateMonitoredItems
// (absolute deadband), ModifyMonitoredItems, SetMonitoringMode, DeleteMonitoredItems,
// Publish, Republish. Anything else is answered with a ServiceFault
// Bad_ServiceUnsupported. Operation limits are advertised and enforced.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/opcua/address_space.h"

namespace uc::simulator::opcua {

using ConnectionId = std::uint64_t;

struct CoreOptions {
  AddressSpaceOptions space;
  std::string endpoint_url;  // opc.tcp://host:port
  std::optional<std::string> user, password;  // user-name login, besides anonymous
  std::size_t max_sessions = 100;
  std::size_t max_publish_requests = 10;        // parked per session
  std::size_t max_notifications_per_message = 20000;
};

// A response body for the connection that asked (request_id as in the request's chunk).
struct Outgoing {
  ConnectionId connection = 0;
  std::uint32_t request_id = 0;
  std::string body;
};

struct CoreCounters {
  std::uint64_t requests = 0;
  std::uint64_t publish_responses = 0;
  std::uint64_t notifications = 0;
};

class ServerCore {
 public:
  ServerCore(CoreOptions options, std::int64_t now_us);
  ~ServerCore();

  // Handles one service request. The response is appended to `out` — or, for Publish,
  // parked and sent later by tick().
  void handle(ConnectionId conn, std::uint32_t request_id, std::string_view body, std::int64_t now_us,
              std::vector<Outgoing>& out);
  // Advances values and subscriptions to `now_us`; appends due Publish responses.
  void tick(std::int64_t now_us, std::vector<Outgoing>& out);
  // A connection went away: its parked Publish requests are dropped; its sessions stay
  // until their timeout, so a client may re-activate them on a new channel.
  void connection_closed(ConnectionId conn);

  const AddressSpace& space() const { return space_; }
  const CoreCounters& counters() const { return counters_; }
  std::size_t session_count() const;
  std::size_t monitored_item_count() const;

 private:
  struct Impl;
  AddressSpace space_;
  CoreCounters counters_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uc::simulator::opcua
