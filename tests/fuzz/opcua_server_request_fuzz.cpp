// Fuzz target: service request bodies (encoding NodeId + request) into the OPC UA
// simulator's services, from a client that has logged in. Every request gets an answer
// or is parked (Publish), and nothing crashes; ticks run between requests so parked
// Publish requests and subscriptions are exercised too.
//
// Input: byte 0 picks a valid request (one per service, built here) when its high bit is
// set; byte 1 says how much of it to keep (k = byte1 * size / 256); the rest of the input
// replaces its tail. With the high bit clear, the input after byte 0 is the body as is.
// Either way the body's RequestHeader, when it decodes, gets the session's token, so the
// fuzzer reaches the session services without guessing a random token.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/types.h"
#include "protocols/opcua/transport.h"
#include "simulator/opcua/server_core.h"

namespace ua = uc::opcua;
using uc::simulator::opcua::Outgoing;
using uc::simulator::opcua::ServerCore;

namespace {

std::int64_t g_now = 1'764'300'000'000'000;

ua::NodeId login(ServerCore& core) {
  std::vector<Outgoing> out;
  core.handle(1, 1, ua::encode_service(ua::CreateSessionRequest{}), g_now, out);
  ua::CreateSessionResponse cs;
  (void)ua::decode_service(out.back().body, cs, ua::Limits{});
  ua::ActivateSessionRequest as;
  as.request_header.authentication_token = cs.authentication_token;
  core.handle(1, 2, ua::encode_service(as), g_now, out);
  return cs.authentication_token;
}

std::vector<std::string> templates() {
  const ua::NodeId var(1, std::string("Demo.Dynamic.Counter"));
  std::vector<std::string> t;
  ua::ReadRequest read;
  read.nodes_to_read.resize(2);
  read.nodes_to_read[0].node_id = var;
  read.nodes_to_read[0].attribute_id = 13;
  read.nodes_to_read[1].node_id = ua::NodeId(ua::ids::kServer_NamespaceArray);
  read.nodes_to_read[1].attribute_id = 13;
  t.push_back(ua::encode_service(read));
  ua::BrowseRequest browse;
  browse.requested_max_references_per_node = 2;
  browse.nodes_to_browse.resize(1);
  browse.nodes_to_browse[0].node_id = ua::NodeId(1, std::string("Demo.Static"));
  browse.nodes_to_browse[0].reference_type_id = ua::NodeId(ua::ids::kHierarchicalReferences);
  browse.nodes_to_browse[0].include_subtypes = true;
  t.push_back(ua::encode_service(browse));
  ua::BrowseNextRequest next;
  next.continuation_points = {ua::ByteString{std::string("cp1")}};
  t.push_back(ua::encode_service(next));
  ua::TranslateBrowsePathsToNodeIdsRequest tr;
  tr.browse_paths.resize(1);
  tr.browse_paths[0].starting_node = ua::NodeId(ua::ids::kObjectsFolder);
  tr.browse_paths[0].relative_path.elements.resize(2);
  tr.browse_paths[0].relative_path.elements[0].target_name = {1, std::string("Demo")};
  tr.browse_paths[0].relative_path.elements[1].target_name = {1, std::string("Static")};
  t.push_back(ua::encode_service(tr));
  ua::CreateSubscriptionRequest sub;
  sub.requested_publishing_interval = 100;
  sub.publishing_enabled = true;
  t.push_back(ua::encode_service(sub));
  ua::CreateMonitoredItemsRequest items;
  items.subscription_id = 1;
  items.items_to_create.resize(1);
  items.items_to_create[0].item_to_monitor.node_id = var;
  items.items_to_create[0].item_to_monitor.attribute_id = 13;
  items.items_to_create[0].monitoring_mode = ua::MonitoringMode::kReporting;
  ua::DataChangeFilter filter;
  filter.deadband_type = 1;
  filter.deadband_value = 0.5;
  items.items_to_create[0].requested_parameters.filter = ua::make_extension(filter);
  t.push_back(ua::encode_service(items));
  ua::PublishRequest publish;
  publish.subscription_acknowledgements = {{1, 1}};
  t.push_back(ua::encode_service(publish));
  ua::RepublishRequest re;
  re.subscription_id = 1;
  re.retransmit_sequence_number = 1;
  t.push_back(ua::encode_service(re));
  ua::SetMonitoringModeRequest mode;
  mode.subscription_id = 1;
  mode.monitored_item_ids = {1};
  t.push_back(ua::encode_service(mode));
  ua::TransferSubscriptionsRequest transfer;
  transfer.subscription_ids = {1};
  t.push_back(ua::encode_service(transfer));
  ua::DeleteSubscriptionsRequest del;
  del.subscription_ids = {1};
  t.push_back(ua::encode_service(del));
  t.push_back(ua::encode_service(ua::GetEndpointsRequest{}));
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ServerCore* core = [] {
    uc::simulator::opcua::CoreOptions o;
    o.space.variables = 30;
    o.endpoint_url = "opc.tcp://127.0.0.1:4840";
    return new ServerCore(o, g_now);
  }();
  static const std::vector<std::string> kTemplates = templates();
  static ua::NodeId token = login(*core);
  if (size < 2) return 0;
  std::string body;
  if ((data[0] & 0x80U) != 0) {
    const std::string& t = kTemplates[data[0] % kTemplates.size()];
    body = t.substr(0, data[1] * t.size() / 256 + (data[1] == 255 ? t.size() : 0));
    body.append(reinterpret_cast<const char*>(data + 2), size - 2);
  } else {
    body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  }
  {  // Give the header the session's token.
    static const ua::Limits kLimits{};
    ua::Decoder d(body, kLimits);
    ua::NodeId type;
    ua::RequestHeader h;
    if (ua::decode(d, type) && ua::decode(d, h)) {
      const std::string tail = body.substr(d.position(body));
      h.authentication_token = token;
      std::string patched;
      ua::Encoder e(patched);
      ua::encode(e, type);
      ua::encode(e, h);
      patched += tail;
      body = std::move(patched);
    }
  }
  std::vector<Outgoing> out;
  core->handle(1, 3, body, g_now, out);
  g_now += 150'000;
  core->tick(g_now, out);
  if (core->session_count() == 0) token = login(*core);
  return 0;
}
