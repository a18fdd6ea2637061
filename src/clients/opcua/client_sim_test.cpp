// Client::browse_many and Client::translate against our simulator (in-process, loopback)
// with small operation limits, so every request has to be split; and the UserName login
// with a plain password (the simulator's token policy has security None).
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "clients/opcua/client.h"
#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"
#include "simulator/opcua/opcua_server.h"

namespace uc::clients::opcua {
namespace {

namespace ua = uc::opcua;
namespace sim = uc::simulator::opcua;

// "Objects/1:Demo/Static" from the Root folder; a segment without "ns:" takes the
// namespace of the one before it (the first: 0).
ua::BrowsePath browse_path(const std::string& text) {
  ua::BrowsePath bp;
  bp.starting_node = ua::NodeId(ua::ids::kRootFolder);
  std::uint16_t ns = 0;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t slash = std::min(text.find('/', from), text.size());
    std::string seg = text.substr(from, slash - from);
    if (const auto colon = seg.find(':'); colon != std::string::npos) {
      ns = static_cast<std::uint16_t>(std::stoi(seg.substr(0, colon)));
      seg = seg.substr(colon + 1);
    }
    ua::RelativePathElement e;
    e.reference_type_id = ua::NodeId(ua::ids::kHierarchicalReferences);
    e.include_subtypes = true;
    e.target_name = ua::QualifiedName{ns, seg};
    bp.relative_path.elements.push_back(std::move(e));
    from = slash + 1;
  }
  return bp;
}

class SimulatorClient : public ::testing::Test {
 protected:
  void start(std::uint32_t limit, std::optional<std::string> user = std::nullopt) {
    sim::ServerOptions so;
    so.port = 0;
    so.space.variables = 300;
    so.space.max_nodes_per_browse = limit;
    so.user = user;
    so.password = std::string("pw");
    server_ = std::make_unique<sim::OpcUaServer>(so);
    ASSERT_TRUE(server_->start().is_ok());
  }
  ClientOptions options() const {
    ClientOptions co;
    co.endpoint_url = server_->endpoint_url();
    co.timeout_ms = 5000;
    return co;
  }
  std::unique_ptr<sim::OpcUaServer> server_;
};

// Every node below `root`, breadth-first, as "parent>child" strings in browse order.
std::vector<std::string> tree_by_browse_many(Client& c, const ua::NodeId& root, std::uint32_t max_refs) {
  std::vector<std::string> out;
  std::vector<ua::NodeId> level{root};
  while (!level.empty()) {
    std::vector<ua::NodeId> next;
    Status s = c.browse_many(
        level,
        [&](std::size_t i, BrowsedNode&& n) {
          EXPECT_FALSE(n.status.is_bad()) << n.status.code;
          for (const auto& r : n.refs) {
            out.push_back(ua::to_string(level[i]) + ">" + ua::to_string(r.node_id.node_id));
            next.push_back(r.node_id.node_id);
          }
          return true;
        },
        ua::BrowseDirection::kForward, max_refs);
    EXPECT_TRUE(s.is_ok()) << s.message();
    level = std::move(next);
  }
  return out;
}

std::vector<std::string> tree_by_browse_all(Client& c, const ua::NodeId& root) {
  std::vector<std::string> out;
  std::vector<ua::NodeId> level{root};
  while (!level.empty()) {
    std::vector<ua::NodeId> next;
    for (const auto& n : level) {
      auto refs = c.browse_all(n);
      EXPECT_TRUE(refs) << refs.status().message();
      if (!refs) return out;
      for (const auto& r : *refs) {
        out.push_back(ua::to_string(n) + ">" + ua::to_string(r.node_id.node_id));
        next.push_back(r.node_id.node_id);
      }
    }
    level = std::move(next);
  }
  return out;
}

TEST_F(SimulatorClient, BrowseManySplitsByMaxNodesPerBrowseAndFollowsContinuationPoints) {
  start(3);
  Client c(options());
  ASSERT_TRUE(c.connect().is_ok());
  ASSERT_TRUE(c.open_session().is_ok());
  EXPECT_EQ(c.operation_limits().max_nodes_per_browse, 3u);
  EXPECT_EQ(c.operation_limits().max_nodes_per_translate, 3u);
  const ua::NodeId plant(1, std::string("Plant"));
  const auto expected = tree_by_browse_all(c, plant);
  ASSERT_EQ(expected.size(), 1u + 3u + 30u + 300u);  // 1 site, 3 lines (of 100 variables), 30 equipment, 300 vars

  const auto before = server_->stats().requests;
  // The simulator answers a request over its limit with Bad_TooManyOperations: the split is
  // what makes this work. Two references per call: every node with more keeps a
  // continuation point, several of them followed in one BrowseNext.
  EXPECT_EQ(tree_by_browse_many(c, plant, 2), expected);
  const auto requests = server_->stats().requests - before;
  // 334 + 1 nodes browsed 3 per request (at least 112 Browse requests) plus BrowseNext rounds;
  // far fewer than one request per node and page.
  EXPECT_GE(requests, 112u);
  EXPECT_EQ(tree_by_browse_many(c, plant, 0), expected);
}

TEST_F(SimulatorClient, BrowseManyStopsWhenAskedAndTheSessionGoesOn) {
  start(4);
  Client c(options());
  ASSERT_TRUE(c.connect().is_ok());
  ASSERT_TRUE(c.open_session().is_ok());
  // Site1 (3 lines) first, then 30 equipment nodes with 10 variables each; 5 references per
  // call, so after the first Browse Site1 is complete and equipment 0..2 hold points.
  std::vector<ua::NodeId> nodes{ua::NodeId(1, std::string("Plant.Site1"))};
  auto lines = c.browse_all(nodes[0]);
  ASSERT_TRUE(lines);
  for (const auto& line : *lines) {
    auto equipment = c.browse_all(line.node_id.node_id);
    ASSERT_TRUE(equipment);
    for (const auto& e : *equipment) nodes.push_back(e.node_id.node_id);
  }
  ASSERT_EQ(nodes.size(), 31u);
  for (int round = 0; round < 20; ++round) {  // more points than the simulator keeps per session (16)
    std::vector<std::size_t> seen;
    const auto before = server_->stats().requests;
    Status s = c.browse_many(
        nodes,
        [&](std::size_t i, BrowsedNode&&) {
          seen.push_back(i);
          return false;  // stop at once: the three points still held are released
        },
        ua::BrowseDirection::kForward, 5);
    ASSERT_TRUE(s.is_ok()) << s.message();
    EXPECT_EQ(seen, std::vector<std::size_t>{0});
    // One Browse (nodes 0..3), then one BrowseNext releasing the points of nodes 1..3.
    EXPECT_EQ(server_->stats().requests - before, 2u);
  }
  // Without a stop: every node, in order, each complete across its pages.
  std::vector<std::size_t> seen;
  Status s = c.browse_many(
      nodes,
      [&](std::size_t i, BrowsedNode&& n) {
        EXPECT_EQ(n.refs.size(), i == 0 ? 3u : 10u) << i;
        seen.push_back(i);
        return true;
      },
      ua::BrowseDirection::kForward, 5);
  ASSERT_TRUE(s.is_ok()) << s.message();
  ASSERT_EQ(seen.size(), nodes.size());
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
  auto again = c.read({ua::ReadValueId{ua::NodeId(ua::ids::kServer_NamespaceArray), 13, std::nullopt, ua::QualifiedName{}}});
  ASSERT_TRUE(again) << again.status().message();
}

TEST_F(SimulatorClient, TranslateIsSplitAndResultsKeepTheirOrder) {
  start(3);
  Client c(options());
  ASSERT_TRUE(c.connect().is_ok());
  ASSERT_TRUE(c.open_session().is_ok());
  std::vector<ua::BrowsePath> paths;
  const std::vector<std::string> texts = {"Objects/1:Demo/Static/Double", "Objects/1:Demo/Static/Int32",
                                          "Objects/1:Demo/Nothing",      "Objects/1:Demo/Dynamic/Counter",
                                          "Objects/1:Plant/Site1",       "Objects/Server",
                                          "Objects/1:Demo/Static/String"};
  for (const auto& t : texts) paths.push_back(browse_path(t));
  auto r = c.translate(paths);  // 7 paths, at most 3 per request
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ(r->size(), texts.size());
  const std::vector<std::string> want = {"ns=1;s=Demo.Static.Double", "ns=1;s=Demo.Static.Int32", "",
                                         "ns=1;s=Demo.Dynamic.Counter", "ns=1;s=Plant.Site1", "i=2253",
                                         "ns=1;s=Demo.Static.String"};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto& res = (*r)[i];
    if (want[i].empty()) {
      EXPECT_EQ(res.status_code.code, ua::status::kBadNoMatch) << texts[i];
      continue;
    }
    ASSERT_EQ(res.status_code.code, 0u) << texts[i] << " " << status_text(res.status_code.code);
    ASSERT_FALSE(res.targets.empty()) << texts[i];
    EXPECT_EQ(ua::to_string(res.targets[0].target_id.node_id), want[i]) << texts[i];
  }
}

TEST_F(SimulatorClient, UserNameLoginWithAPlainPassword) {
  start(1000, std::string("op"));
  ClientOptions co = options();
  co.username = "op";
  co.password = "pw";
  Client good(co);
  ASSERT_TRUE(good.connect().is_ok());
  Status s = good.open_session();
  EXPECT_TRUE(s.is_ok()) << s.message();

  co.password = "nope";
  Client bad(co);
  ASSERT_TRUE(bad.connect().is_ok());
  s = bad.open_session();
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "ActivateSession (user op): service fault: BadUserAccessDenied (0x801F0000)");
}

// Several Publish requests outstanding: answers that arrive while another call (a Read)
// waits for its own are kept and handed out afterwards, oldest first; DeleteSubscriptions
// and CloseSession leave nothing behind in the server.
TEST_F(SimulatorClient, PublishAnswersArrivingDuringAnotherCallAreKeptThenTheSubscriptionIsDeleted) {
  start(1000);
  Client c(options());
  ASSERT_TRUE(c.connect().is_ok());
  ASSERT_TRUE(c.open_session().is_ok());
  auto sub = c.create_subscription(100, 30, 10);
  ASSERT_TRUE(sub) << sub.status().message();
  std::vector<ua::MonitoredItemCreateRequest> items;
  for (const char* n : {"Demo.Dynamic.Counter", "Demo.Dynamic.Sine", "Demo.Static.Double"}) {
    ua::MonitoredItemCreateRequest m;
    m.item_to_monitor.node_id = ua::NodeId(1, std::string(n));
    m.item_to_monitor.attribute_id = 13;
    m.monitoring_mode = ua::MonitoringMode::kReporting;
    m.requested_parameters.client_handle = static_cast<std::uint32_t>(items.size());
    m.requested_parameters.sampling_interval = 100;
    m.requested_parameters.queue_size = 1;
    items.push_back(m);
  }
  auto created = c.create_monitored_items(sub->subscription_id, items);
  ASSERT_TRUE(created) << created.status().message();
  EXPECT_EQ(server_->stats().monitored_items, 3u);

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.send_publish({}, 10000).is_ok());
  EXPECT_EQ(c.outstanding_publishes(), 3u);
  // Let the server answer them (the first carries the initial values, the others arrive
  // as values change or keep-alives fall due), then make a blocking call in between.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::vector<ua::ReadValueId> nodes{ua::ReadValueId{ua::NodeId(1, std::string("Demo.Static.Double")), 13,
                                                     std::nullopt, ua::QualifiedName{}}};
  auto read = c.read(nodes);
  ASSERT_TRUE(read) << read.status().message();
  std::vector<std::uint32_t> seqs;
  for (int i = 0; i < 3; ++i) {
    auto r = c.wait_publish(2000);
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(r->subscription_id, sub->subscription_id);
    seqs.push_back(r->notification_message.sequence_number);
  }
  EXPECT_EQ(c.outstanding_publishes(), 0u);
  EXPECT_EQ(seqs[0], 1u);  // the initial values
  EXPECT_LE(seqs[0], seqs[1]);
  EXPECT_LE(seqs[1], seqs[2]);
  EXPECT_FALSE(c.wait_publish(100)) << "nothing is outstanding any more";

  ASSERT_TRUE(c.delete_subscriptions({sub->subscription_id}).is_ok());
  EXPECT_EQ(server_->stats().monitored_items, 0u);
  EXPECT_FALSE(c.delete_subscriptions({sub->subscription_id}).is_ok());  // BadSubscriptionIdInvalid
  ASSERT_TRUE(c.close_session().is_ok());
  EXPECT_FALSE(c.has_session());
  EXPECT_EQ(server_->stats().sessions, 0u);
}

}  // namespace
}  // namespace uc::clients::opcua
