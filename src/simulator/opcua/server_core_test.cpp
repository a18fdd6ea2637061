#include "simulator/opcua/server_core.h"

#include <gtest/gtest.h>

#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"
#include "protocols/opcua/transport.h"

namespace uc::simulator::opcua {
namespace {

namespace ids = ua::ids;
namespace st = ua::status;

constexpr std::int64_t kT0 = 1'764'300'000'000'000;  // 2025-11-28, a whole second

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() : core_(options(), kT0) {}

  static CoreOptions options() {
    CoreOptions o;
    o.space.variables = 25;
    o.space.update_ms = 1000;
    o.space.max_nodes_per_read = 50;
    o.endpoint_url = "opc.tcp://127.0.0.1:4840";
    o.user = "operator";
    o.password = "s3cret";
    return o;
  }

  template <typename Resp, typename Req>
  Resp call(const Req& req, ConnectionId conn = 1) {
    std::vector<Outgoing> out;
    core_.handle(conn, ++request_id_, ua::encode_service(req), now_, out);
    EXPECT_EQ(out.size(), 1U);
    Resp resp;
    if (out.empty()) return resp;
    const Status s = ua::decode_service(out.back().body, resp, ua::Limits{});
    EXPECT_TRUE(s.is_ok()) << s.message() << " fault "
                           << (ua::peek_service_type(out.back().body) == ua::ServiceFault::kBinaryEncodingId);
    return resp;
  }

  std::uint32_t fault_of(const std::vector<Outgoing>& out) {
    ua::ServiceFault f;
    EXPECT_TRUE(ua::decode_service(out.back().body, f, ua::Limits{}).is_ok());
    return f.response_header.service_result.code;
  }

  template <typename Req>
  std::uint32_t fault_for(const Req& req, ConnectionId conn = 1) {
    std::vector<Outgoing> out;
    core_.handle(conn, ++request_id_, ua::encode_service(req), now_, out);
    if (out.empty()) return 0;
    if (ua::peek_service_type(out.back().body) != ua::ServiceFault::kBinaryEncodingId) return 0;
    return fault_of(out);
  }

  ua::RequestHeader header() {
    ua::RequestHeader h;
    h.authentication_token = token_;
    h.request_handle = ++handle_;
    return h;
  }

  void login(ConnectionId conn = 1) {
    ua::CreateSessionRequest cs;
    cs.requested_session_timeout = 60000;
    auto r = call<ua::CreateSessionResponse>(cs, conn);
    token_ = r.authentication_token;
    ua::ActivateSessionRequest as;
    as.request_header = header();
    ua::AnonymousIdentityToken anon;
    anon.policy_id = std::string("anonymous");
    as.user_identity_token = ua::make_extension(anon);
    auto a = call<ua::ActivateSessionResponse>(as, conn);
    ASSERT_EQ(a.response_header.service_result.code, st::kGood);
  }

  ua::DataValue read_value(const std::string& sid, std::uint32_t attribute = attr::kValue) {
    ua::ReadRequest r;
    r.request_header = header();
    r.timestamps_to_return = ua::TimestampsToReturn::kBoth;
    ua::ReadValueId id;
    id.node_id = ua::NodeId(1, sid);
    id.attribute_id = attribute;
    r.nodes_to_read.push_back(id);
    auto resp = call<ua::ReadResponse>(r);
    EXPECT_EQ(resp.results.size(), 1U);
    return resp.results.empty() ? ua::DataValue{} : resp.results.front();
  }

  ServerCore core_;
  std::int64_t now_ = kT0;
  std::uint32_t request_id_ = 0, handle_ = 0;
  ua::NodeId token_;
};

TEST_F(CoreTest, ServicesNeedAnActivatedSession) {
  ua::ReadRequest r;
  r.request_header.request_handle = 7;
  r.nodes_to_read.resize(1);
  EXPECT_EQ(fault_for(r), st::kBadSessionIdInvalid);
  ua::CreateSessionRequest cs;
  token_ = call<ua::CreateSessionResponse>(cs).authentication_token;
  r.request_header = header();
  EXPECT_EQ(fault_for(r), st::kBadSessionNotActivated);
}

TEST_F(CoreTest, UserNameLoginChecksThePassword) {
  ua::CreateSessionRequest cs;
  token_ = call<ua::CreateSessionResponse>(cs).authentication_token;
  ua::ActivateSessionRequest as;
  as.request_header = header();
  ua::UserNameIdentityToken u;
  u.user_name = std::string("operator");
  u.password = ua::ByteString{std::string("wrong")};
  as.user_identity_token = ua::make_extension(u);
  EXPECT_EQ(fault_for(as), st::kBadUserAccessDenied);
  u.password = ua::ByteString{std::string("s3cret")};
  as.user_identity_token = ua::make_extension(u);
  EXPECT_EQ(call<ua::ActivateSessionResponse>(as).response_header.service_result.code, st::kGood);
}

TEST_F(CoreTest, ReadsTheDocumentedStaticValues) {
  login();
  EXPECT_EQ(read_value("Demo.Static.Int64").value, ua::Variant::scalar(std::int64_t{-9000000000000000001LL}));
  EXPECT_EQ(read_value("Demo.Static.UInt64").value, ua::Variant::scalar(std::uint64_t{18000000000000000001ULL}));
  EXPECT_EQ(read_value("Demo.Static.Float").value, ua::Variant::scalar(3.25F));
  EXPECT_EQ(read_value("Demo.Static.String").value, ua::Variant::scalar(ua::String("Grüße, Welt")));
  EXPECT_EQ(read_value("Demo.Static.Int32Array").value, ua::Variant::array(std::vector<std::int32_t>{1, -2, 3}));
  const auto dt = read_value("Demo.Static.Double", attr::kDataType);
  EXPECT_EQ(dt.value, ua::Variant::scalar(ua::NodeId(ids::kDouble)));
  EXPECT_EQ(read_value("Nope").status, ua::StatusCode{st::kBadNodeIdUnknown});
  EXPECT_EQ(read_value("Demo", attr::kValue).status, ua::StatusCode{st::kBadAttributeIdInvalid});
  EXPECT_EQ(read_value("Demo.Static.Double", 99).status, ua::StatusCode{st::kBadAttributeIdInvalid});
}

TEST_F(CoreTest, EnforcesTheAdvertisedReadLimit) {
  login();
  ua::ReadRequest r;
  r.request_header = header();
  ua::ReadValueId id;
  id.node_id = ua::NodeId(ids::kServer_ServerCapabilities_OperationLimits_MaxNodesPerRead);
  id.attribute_id = attr::kValue;
  r.nodes_to_read = {id};
  EXPECT_EQ(call<ua::ReadResponse>(r).results.at(0).value, ua::Variant::scalar(std::uint32_t{50}));
  r.nodes_to_read.assign(51, id);
  EXPECT_EQ(fault_for(r), st::kBadTooManyOperations);
}

TEST_F(CoreTest, StatusCycleVariableChangesItsStatus) {
  login();
  EXPECT_FALSE(read_value("Demo.Dynamic.Status").status.has_value());
  now_ += 5'000'000;
  std::vector<Outgoing> out;
  core_.tick(now_, out);
  EXPECT_EQ(read_value("Demo.Dynamic.Status").status, ua::StatusCode{st::kUncertainLastUsableValue});
  now_ += 5'000'000;
  core_.tick(now_, out);
  EXPECT_EQ(read_value("Demo.Dynamic.Status").status, ua::StatusCode{st::kBadSensorFailure});
}

TEST_F(CoreTest, BrowsesWithContinuationPoints) {
  login();
  ua::BrowseRequest b;
  b.request_header = header();
  b.requested_max_references_per_node = 4;
  ua::BrowseDescription d;
  d.node_id = ua::NodeId(1, std::string("Demo.Static"));
  d.browse_direction = ua::BrowseDirection::kForward;
  d.reference_type_id = ua::NodeId(ids::kHierarchicalReferences);
  d.include_subtypes = true;
  b.nodes_to_browse = {d};
  auto r = call<ua::BrowseResponse>(b);
  ASSERT_EQ(r.results.size(), 1U);
  std::vector<std::string> names;
  for (const auto& ref : r.results[0].references) names.push_back(*ref.browse_name.name);
  ua::ByteString cp = r.results[0].continuation_point;
  while (cp.data) {
    ua::BrowseNextRequest n;
    n.request_header = header();
    n.continuation_points = {cp};
    auto nr = call<ua::BrowseNextResponse>(n);
    ASSERT_EQ(nr.results.size(), 1U);
    for (const auto& ref : nr.results[0].references) names.push_back(*ref.browse_name.name);
    cp = nr.results[0].continuation_point;
  }
  EXPECT_EQ(names.size(), 17U);
  EXPECT_EQ(names.front(), "Boolean");
  ua::BrowseNextRequest bad;
  bad.request_header = header();
  bad.continuation_points = {ua::ByteString{std::string("nope")}};
  auto br = call<ua::BrowseNextResponse>(bad);
  EXPECT_EQ(br.results.at(0).status_code, ua::StatusCode{st::kBadContinuationPointInvalid});
}

TEST_F(CoreTest, TranslatesBrowsePaths) {
  login();
  ua::TranslateBrowsePathsToNodeIdsRequest t;
  t.request_header = header();
  ua::BrowsePath p;
  p.starting_node = ua::NodeId(ids::kObjectsFolder);
  for (const char* name : {"Plant", "Site1", "Line1", "Mixer1", "Temperature"}) {
    ua::RelativePathElement e;
    e.reference_type_id = ua::NodeId(ids::kHierarchicalReferences);
    e.include_subtypes = true;
    e.target_name = {1, std::string(name)};
    p.relative_path.elements.push_back(e);
  }
  t.browse_paths = {p};
  p.relative_path.elements.back().target_name.name = std::string("Nope");
  t.browse_paths.push_back(p);
  auto r = call<ua::TranslateBrowsePathsToNodeIdsResponse>(t);
  ASSERT_EQ(r.results.size(), 2U);
  ASSERT_EQ(r.results[0].targets.size(), 1U);
  EXPECT_EQ(r.results[0].targets[0].target_id.node_id, ua::NodeId(1, std::string("Plant.Site1.Line1.Mixer1.Temperature")));
  EXPECT_EQ(r.results[1].status_code, ua::StatusCode{st::kBadNoMatch});
}

TEST_F(CoreTest, SubscriptionPublishesChangesKeepAlivesAndRepublishes) {
  login();
  ua::CreateSubscriptionRequest cs;
  cs.request_header = header();
  cs.requested_publishing_interval = 1000;
  cs.requested_max_keep_alive_count = 3;
  cs.requested_lifetime_count = 30;
  cs.publishing_enabled = true;
  const auto sub = call<ua::CreateSubscriptionResponse>(cs);
  ASSERT_EQ(sub.revised_publishing_interval, 1000);
  ua::CreateMonitoredItemsRequest cm;
  cm.request_header = header();
  cm.subscription_id = sub.subscription_id;
  cm.timestamps_to_return = ua::TimestampsToReturn::kSource;
  for (const char* s : {"Demo.Dynamic.Counter", "Demo.Static.Double", "Nope"}) {
    ua::MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = ua::NodeId(1, std::string(s));
    item.item_to_monitor.attribute_id = attr::kValue;
    item.monitoring_mode = ua::MonitoringMode::kReporting;
    item.requested_parameters.client_handle = static_cast<std::uint32_t>(cm.items_to_create.size() + 100);
    item.requested_parameters.sampling_interval = 100;
    cm.items_to_create.push_back(item);
  }
  const auto items = call<ua::CreateMonitoredItemsResponse>(cm);
  ASSERT_EQ(items.results.size(), 3U);
  EXPECT_EQ(items.results[0].status_code.code, st::kGood);
  EXPECT_EQ(items.results[0].revised_sampling_interval, 1000);  // not faster than the values change
  EXPECT_EQ(items.results[2].status_code.code, st::kBadNodeIdUnknown);

  auto publish = [&](std::vector<ua::SubscriptionAcknowledgement> acks = {}) {
    ua::PublishRequest p;
    p.request_header = header();
    p.subscription_acknowledgements = std::move(acks);
    std::vector<Outgoing> out;
    core_.handle(1, ++request_id_, ua::encode_service(p), now_, out);
    EXPECT_TRUE(out.empty());  // parked
  };
  auto advance = [&](std::int64_t us) {
    std::vector<Outgoing> out;
    now_ += us;
    core_.tick(now_, out);
    return out;
  };
  publish();
  auto out = advance(1'000'000);
  ASSERT_EQ(out.size(), 1U);
  ua::PublishResponse pr;
  ASSERT_TRUE(ua::decode_service(out[0].body, pr, ua::Limits{}).is_ok());
  ASSERT_EQ(pr.notification_message.notification_data.size(), 1U);
  ua::DataChangeNotification dcn;
  ASSERT_TRUE(ua::decode_extension(pr.notification_message.notification_data[0], dcn, ua::Limits{}));
  ASSERT_EQ(dcn.monitored_items.size(), 2U);  // the initial values
  EXPECT_EQ(dcn.monitored_items[1].value.value, ua::Variant::scalar(-1234.5678));
  EXPECT_FALSE(dcn.monitored_items[1].value.server_timestamp.has_value());
  const std::uint32_t seq = pr.notification_message.sequence_number;
  EXPECT_EQ(seq, 1U);

  // Next cycle: only the counter changed.
  publish({{sub.subscription_id, seq}});
  out = advance(1'000'000);
  ASSERT_EQ(out.size(), 1U);
  ASSERT_TRUE(ua::decode_service(out[0].body, pr, ua::Limits{}).is_ok());
  EXPECT_EQ(pr.results, std::vector<ua::StatusCode>{ua::StatusCode{st::kGood}});
  ASSERT_TRUE(ua::decode_extension(pr.notification_message.notification_data.at(0), dcn, ua::Limits{}));
  ASSERT_EQ(dcn.monitored_items.size(), 1U);
  EXPECT_EQ(dcn.monitored_items[0].client_handle, 100U);
  EXPECT_EQ(pr.notification_message.sequence_number, 2U);
  EXPECT_EQ(pr.available_sequence_numbers, std::vector<std::uint32_t>{2});

  // Republish of the unacknowledged message; an acknowledged one is gone.
  ua::RepublishRequest rp;
  rp.request_header = header();
  rp.subscription_id = sub.subscription_id;
  rp.retransmit_sequence_number = 2;
  EXPECT_EQ(call<ua::RepublishResponse>(rp).notification_message.sequence_number, 2U);
  rp.retransmit_sequence_number = 1;
  EXPECT_EQ(fault_for(rp), st::kBadMessageNotAvailable);

  // Only static items left: keep-alive after keep_alive_count quiet cycles.
  ua::SetMonitoringModeRequest mm;
  mm.request_header = header();
  mm.subscription_id = sub.subscription_id;
  mm.monitoring_mode = ua::MonitoringMode::kDisabled;
  mm.monitored_item_ids = {items.results[0].monitored_item_id};
  EXPECT_EQ(call<ua::SetMonitoringModeResponse>(mm).results.at(0).code, st::kGood);
  publish();
  EXPECT_TRUE(advance(1'000'000).empty());
  EXPECT_TRUE(advance(1'000'000).empty());
  out = advance(1'000'000);
  ASSERT_EQ(out.size(), 1U);
  ASSERT_TRUE(ua::decode_service(out[0].body, pr, ua::Limits{}).is_ok());
  EXPECT_TRUE(pr.notification_message.notification_data.empty());
  EXPECT_EQ(pr.notification_message.sequence_number, 3U);  // the next one, not consumed
}

TEST_F(CoreTest, ACycleSplitsManyChangesOverTheParkedPublishRequests) {
  login();
  ua::CreateSubscriptionRequest cs;
  cs.request_header = header();
  cs.requested_publishing_interval = 1000;
  cs.max_notifications_per_publish = 2;
  cs.publishing_enabled = true;
  const auto sub = call<ua::CreateSubscriptionResponse>(cs);
  ua::CreateMonitoredItemsRequest cm;
  cm.request_header = header();
  cm.subscription_id = sub.subscription_id;
  for (const char* n : {"Boolean", "SByte", "Byte", "Int16", "UInt16"}) {
    ua::MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = ua::NodeId(1, std::string("Demo.Static.") + n);
    item.item_to_monitor.attribute_id = attr::kValue;
    item.monitoring_mode = ua::MonitoringMode::kReporting;
    cm.items_to_create.push_back(item);
  }
  ASSERT_EQ(call<ua::CreateMonitoredItemsResponse>(cm).results.size(), 5U);
  for (int i = 0; i < 4; ++i) {
    ua::PublishRequest p;
    p.request_header = header();
    std::vector<Outgoing> parked;
    core_.handle(1, ++request_id_, ua::encode_service(p), now_, parked);
    ASSERT_TRUE(parked.empty());
  }
  std::vector<Outgoing> out;
  now_ += 1'000'000;
  core_.tick(now_, out);
  ASSERT_EQ(out.size(), 3U);  // 2 + 2 + 1; the fourth request stays parked
  std::vector<std::size_t> sizes;
  std::vector<bool> more;
  for (const auto& o : out) {
    ua::PublishResponse pr;
    ASSERT_TRUE(ua::decode_service(o.body, pr, ua::Limits{}).is_ok());
    ua::DataChangeNotification dcn;
    ASSERT_TRUE(ua::decode_extension(pr.notification_message.notification_data.at(0), dcn, ua::Limits{}));
    sizes.push_back(dcn.monitored_items.size());
    more.push_back(pr.more_notifications);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(more, (std::vector<bool>{true, true, false}));
}

TEST_F(CoreTest, APublishRequestIsAnsweredAtOnceWhileABacklogRemains) {
  login();
  ua::CreateSubscriptionRequest cs;
  cs.request_header = header();
  cs.requested_publishing_interval = 1000;
  cs.max_notifications_per_publish = 2;
  cs.publishing_enabled = true;
  const auto sub = call<ua::CreateSubscriptionResponse>(cs);
  ua::CreateMonitoredItemsRequest cm;
  cm.request_header = header();
  cm.subscription_id = sub.subscription_id;
  for (const char* n : {"Boolean", "SByte", "Byte", "Int16", "UInt16"}) {
    ua::MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = ua::NodeId(1, std::string("Demo.Static.") + n);
    item.item_to_monitor.attribute_id = attr::kValue;
    item.monitoring_mode = ua::MonitoringMode::kReporting;
    cm.items_to_create.push_back(item);
  }
  ASSERT_EQ(call<ua::CreateMonitoredItemsResponse>(cm).results.size(), 5U);
  auto publish = [&] {
    ua::PublishRequest p;
    p.request_header = header();
    std::vector<Outgoing> out;
    core_.handle(1, ++request_id_, ua::encode_service(p), now_, out);
    return out;
  };
  EXPECT_TRUE(publish().empty());
  std::vector<Outgoing> out;
  now_ += 1'000'000;
  core_.tick(now_, out);
  ASSERT_EQ(out.size(), 1U);  // 2 of 5, more_notifications
  out = publish();            // no waiting for the next cycle
  ASSERT_EQ(out.size(), 1U);
  out = publish();
  ASSERT_EQ(out.size(), 1U);
  ua::PublishResponse pr;
  ASSERT_TRUE(ua::decode_service(out[0].body, pr, ua::Limits{}).is_ok());
  EXPECT_FALSE(pr.more_notifications);
  EXPECT_TRUE(publish().empty());  // nothing left: parked until the next cycle
}

TEST_F(CoreTest, APublishWithoutSubscriptionsFailsAtOnce) {
  login();
  ua::PublishRequest p;
  p.request_header = header();
  std::vector<Outgoing> out;
  core_.handle(1, 1, ua::encode_service(p), now_, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(fault_of(out), st::kBadNoSubscription);
}

TEST_F(CoreTest, ASessionMovesToANewChannelOnReactivation) {
  login(1);
  core_.connection_closed(1);
  ua::ReadRequest r;
  r.request_header = header();
  r.nodes_to_read.resize(1);
  EXPECT_EQ(fault_for(r, 2), st::kBadSecureChannelIdInvalid);
  ua::ActivateSessionRequest as;
  as.request_header = header();
  EXPECT_EQ(call<ua::ActivateSessionResponse>(as, 2).response_header.service_result.code, st::kGood);
  r.request_header = header();
  r.nodes_to_read[0].node_id = ua::NodeId(1, std::string("Demo.Static.Boolean"));
  r.nodes_to_read[0].attribute_id = attr::kValue;
  EXPECT_EQ(call<ua::ReadResponse>(r, 2).results.at(0).value, ua::Variant::scalar(true));
}

TEST_F(CoreTest, GarbageAndUnknownServicesGetFaults) {
  std::vector<Outgoing> out;
  core_.handle(1, 1, std::string("\x01\x00\x77", 3), now_, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(fault_of(out), st::kBadDecodingError);
  login();
  ua::WriteRequest w;
  w.request_header = header();
  EXPECT_EQ(fault_for(w), st::kBadServiceUnsupported);
  // A valid header followed by a truncated body.
  ua::ReadRequest r;
  r.request_header = header();
  r.nodes_to_read.resize(3);
  std::string body = ua::encode_service(r);
  body.resize(body.size() - 5);
  out.clear();
  core_.handle(1, 2, body, now_, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(fault_of(out), st::kBadDecodingError);
}

TEST_F(CoreTest, PlantTreeHoldsTheConfiguredVariableCount) {
  EXPECT_EQ(core_.space().plant_variable_count(), 25U);
  EXPECT_NE(core_.space().find(ua::NodeId(1, std::string("Plant.Site1.Line1.Pump1.Setpoint"))), nullptr);
  EXPECT_NE(core_.space().find(ua::NodeId(1, std::string("Plant.Site1.Line1.Oven1.Pressure"))), nullptr);
  EXPECT_EQ(core_.space().find(ua::NodeId(1, std::string("Plant.Site1.Line1.Oven1.Running"))), nullptr);
}

TEST_F(CoreTest, ASubscriptionOutlivesItsTimedOutSessionUntilItsLifetimeAndCanBeTransferred) {
  auto subscribe = [&] {
    ua::CreateSubscriptionRequest cs;
    cs.request_header = header();
    cs.requested_publishing_interval = 1000;
    cs.requested_max_keep_alive_count = 2;
    cs.requested_lifetime_count = 6;
    cs.publishing_enabled = true;
    return call<ua::CreateSubscriptionResponse>(cs).subscription_id;
  };
  auto advance = [&](std::int64_t us) {
    std::vector<Outgoing> out;
    for (std::int64_t done = 0; done < us; done += 500'000) {
      now_ += 500'000;
      core_.tick(now_, out);
    }
  };
  auto transfer = [&](std::uint32_t id) {
    ua::TransferSubscriptionsRequest t;
    t.request_header = header();
    t.subscription_ids = {id};
    t.send_initial_values = true;
    return call<ua::TransferSubscriptionsResponse>(t).results.at(0).status_code.code;
  };
  login();
  const std::uint32_t kept = subscribe();
  advance(61'000'000);  // the session (timeout 60 s) has timed out; the lifetime is 6 cycles
  EXPECT_EQ(core_.session_count(), 0U);
  // A request on the old session: it is gone.
  ua::ReadRequest r;
  r.request_header = header();
  r.nodes_to_read.resize(1);
  EXPECT_EQ(fault_for(r), st::kBadSessionIdInvalid);
  login();
  // Expired too: its lifetime (6 × 1 s) ran out while nobody published.
  EXPECT_EQ(transfer(kept), st::kBadSubscriptionIdInvalid);

  // A subscription whose lifetime outlasts the session timeout is there to be taken over.
  const std::uint32_t lasting = [&] {
    ua::CreateSubscriptionRequest cs;
    cs.request_header = header();
    cs.requested_publishing_interval = 10'000;
    cs.requested_max_keep_alive_count = 10;
    cs.requested_lifetime_count = 30;  // 300 s
    cs.publishing_enabled = true;
    return call<ua::CreateSubscriptionResponse>(cs).subscription_id;
  }();
  advance(61'000'000);
  EXPECT_EQ(core_.session_count(), 0U);
  login();
  EXPECT_EQ(transfer(lasting), st::kGood);
}

}  // namespace
}  // namespace uc::simulator::opcua
