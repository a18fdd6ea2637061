#include "sources/mqtt/sparkplug_host.h"

#include <gtest/gtest.h>

#include "sources/mqtt/config.h"

namespace uc::sources::mqtt {
namespace {

namespace sp = protocols::sparkplug;

sp::OutMetric metric(std::optional<std::string> name, std::optional<std::uint64_t> alias, std::uint32_t dt, Value v,
                     bool with_type) {
  sp::OutMetric m;
  m.name = std::move(name);
  m.alias = alias;
  m.timestamp = 1700000000500;
  if (with_type) m.datatype = dt;
  m.value_type = dt;
  m.value = std::move(v);
  return m;
}

std::vector<std::uint8_t> payload(std::optional<std::uint64_t> seq, std::vector<sp::OutMetric> ms) {
  sp::OutPayload p;
  p.timestamp = 1700000000000;
  p.seq = seq;
  p.metrics = std::move(ms);
  return sp::encode_payload(p);
}

class HostTest : public ::testing::Test {
 protected:
  HostResult send(const std::string& topic, const std::vector<std::uint8_t>& b) {
    return host.handle(topic, b.data(), b.size(), clock.now_us());
  }
  void birth(std::uint64_t bdseq = 3) {
    auto r = send("spBv1.0/g/NBIRTH/e",
                  payload(0, {metric("bdSeq", std::nullopt, sp::kInt64, std::int64_t(bdseq), true),
                              metric("Node Control/Rebirth", std::nullopt, sp::kBoolean, false, true),
                              metric("Temp", 1, sp::kDouble, 20.5, true)}));
    ASSERT_TRUE(r.samples.is_ok());
    ASSERT_EQ(r.samples->size(), 1u);  // bdSeq and Node Control are not data
    r = send("spBv1.0/g/DBIRTH/e/d1", payload(1, {metric("Speed", 2, sp::kInt32, std::int64_t{-7}, true)}));
    ASSERT_TRUE(r.samples.is_ok());
    ASSERT_EQ(r.samples->size(), 1u);
  }

  ManualClock clock;
  SparkplugOptions options;
  SparkplugHost host{options, clock};
};

TEST_F(HostTest, BirthThenDataByAlias) {
  birth();
  auto r = send("spBv1.0/g/DDATA/e/d1", payload(2, {metric(std::nullopt, 2, sp::kInt32, std::int64_t{42}, false)}));
  ASSERT_TRUE(r.samples.is_ok());
  ASSERT_EQ(r.samples->size(), 1u);
  const Sample& s = (*r.samples)[0];
  EXPECT_EQ(s.address, "spBv1.0/g/e/d1#Speed");
  EXPECT_EQ(std::get<std::int64_t>(s.value), 42);
  EXPECT_EQ(*s.source_time, 1700000000500000);
  EXPECT_EQ(s.meta->data_type, "Int32");
  EXPECT_EQ(s.meta->name_path, "spBv1.0/g/e/d1/Speed");
  EXPECT_TRUE(r.outgoing.empty());
}

TEST_F(HostTest, SeqWrapsAt255WithoutAGap) {
  birth();
  for (int i = 2; i < 300; ++i) {
    auto r = send("spBv1.0/g/NDATA/e", payload(i % 256, {metric(std::nullopt, 1, sp::kDouble, 1.0 * i, false)}));
    ASSERT_TRUE(r.outgoing.empty()) << i;
  }
  EXPECT_EQ(host.counters().seq_gaps, 0u);
}

TEST_F(HostTest, SeqGapRequestsAThrottledRebirth) {
  birth();
  auto r = send("spBv1.0/g/NDATA/e", payload(5, {metric(std::nullopt, 1, sp::kDouble, 1.0, false)}));
  ASSERT_TRUE(r.samples.is_ok());
  EXPECT_EQ(r.samples->size(), 1u);  // the value itself is fine
  ASSERT_EQ(r.outgoing.size(), 1u);
  EXPECT_EQ(r.outgoing[0].topic, "spBv1.0/g/NCMD/e");
  auto ncmd = sp::decode_payload(r.outgoing[0].payload.data(), r.outgoing[0].payload.size());
  ASSERT_TRUE(ncmd.is_ok());
  EXPECT_EQ(*ncmd->metrics[0].name, "Node Control/Rebirth");
  EXPECT_TRUE(ncmd->metrics[0].bool_value);
  // a second gap within the interval: counted, no second request
  r = send("spBv1.0/g/NDATA/e", payload(9, {metric(std::nullopt, 1, sp::kDouble, 1.0, false)}));
  EXPECT_TRUE(r.outgoing.empty());
  EXPECT_EQ(host.counters().seq_gaps, 2u);
  EXPECT_EQ(host.counters().rebirths_requested, 1u);
  clock.advance_us(6'000'000);
  r = send("spBv1.0/g/NDATA/e", payload(20, {metric(std::nullopt, 1, sp::kDouble, 1.0, false)}));
  EXPECT_EQ(r.outgoing.size(), 1u);
  EXPECT_EQ(host.counters().rebirths_requested, 2u);
}

TEST_F(HostTest, UnknownAliasAndDataBeforeBirthRequestRebirth) {
  auto r = send("spBv1.0/g/NDATA/e", payload(4, {metric(std::nullopt, 1, sp::kDouble, 1.0, false)}));
  EXPECT_EQ(r.outgoing.size(), 1u);
  EXPECT_TRUE(r.samples.is_ok() && r.samples->empty());
  birth();
  r = send("spBv1.0/g/NDATA/e", payload(2, {metric(std::nullopt, 99, sp::kDouble, 1.0, false)}));
  EXPECT_EQ(host.counters().unknown_aliases, 1u);
  EXPECT_FALSE(r.errors.empty());
}

TEST_F(HostTest, DeathsMarkTagsStaleAndBdSeqMustMatch) {
  birth(3);
  auto r = send("spBv1.0/g/DDEATH/e/d1", payload(2, {}));
  ASSERT_TRUE(r.samples.is_ok());
  ASSERT_EQ(r.samples->size(), 1u);
  EXPECT_EQ((*r.samples)[0].address, "spBv1.0/g/e/d1#Speed");
  EXPECT_EQ((*r.samples)[0].status.kind, ProtocolStatus::Kind::kStale);
  // NDEATH of an older session: ignored
  r = send("spBv1.0/g/NDEATH/e", payload(std::nullopt, {metric("bdSeq", std::nullopt, sp::kUInt64, std::int64_t{2}, true)}));
  ASSERT_TRUE(r.samples.is_ok());
  EXPECT_TRUE(r.samples->empty());
  EXPECT_EQ(host.counters().stale_deaths_ignored, 1u);
  r = send("spBv1.0/g/NDEATH/e", payload(std::nullopt, {metric("bdSeq", std::nullopt, sp::kUInt64, std::int64_t{3}, true)}));
  ASSERT_TRUE(r.samples.is_ok());
  ASSERT_EQ(r.samples->size(), 2u);  // node Temp + device Speed; bdSeq and Node Control are not data
  for (const auto& s : *r.samples) EXPECT_EQ(s.status.kind, ProtocolStatus::Kind::kStale) << s.address;
}

TEST_F(HostTest, BadMessagesAreErrorsNotCrashes) {
  const std::vector<std::uint8_t> garbage = {0xde, 0xad, 0xbe, 0xef};
  EXPECT_FALSE(send("spBv1.0/g/NBIRTH/e", garbage).samples.is_ok());
  EXPECT_FALSE(send("spBv1.0/g/NBIRTH", garbage).samples.is_ok());
  EXPECT_FALSE(send("spBv1.0/g/XDATA/e", payload(0, {})).samples.is_ok());
  EXPECT_FALSE(send("spBv1.0/g/NDATA/e/d", payload(0, {})).samples.is_ok());
  EXPECT_FALSE(send("spBv1.0/g/NBIRTH/\xff", payload(0, {})).samples.is_ok());
  birth();
  // wrong value field for the datatype: that metric is an error, the message goes on
  auto r = send("spBv1.0/g/NDATA/e", payload(2, {metric(std::nullopt, 1, sp::kString, std::string("x"), false)}));
  ASSERT_TRUE(r.samples.is_ok());
  EXPECT_TRUE(r.samples->empty());
  EXPECT_EQ(r.errors.size(), 1u);
}

// Issue 20: a birth that gives one alias to two metrics used to be taken silently (the
// second metric's data then landed on the first's tag).
TEST_F(HostTest, BirthWithADuplicateAliasIsRefusedWithTheReasonAndTheNodeStaysUnborn) {
  auto r = send("spBv1.0/g/NBIRTH/e", payload(0, {metric("Temp", 1, sp::kDouble, 20.5, true),
                                                  metric("Pressure", 1, sp::kDouble, 1.5, true)}));
  ASSERT_FALSE(r.samples.is_ok());
  EXPECT_NE(r.samples.status().message().find("alias 1 given to both Temp and Pressure"), std::string::npos)
      << r.samples.status().message();
  EXPECT_EQ(host.counters().births_refused, 1u);
  ASSERT_TRUE(host.refused().has_value());
  EXPECT_NE(host.refused()->find("g/e NBIRTH refused"), std::string::npos) << *host.refused();
  // its data is not taken: the node has no session
  r = send("spBv1.0/g/NDATA/e", payload(1, {metric(std::nullopt, 1, sp::kDouble, 1.0, false)}));
  ASSERT_TRUE(r.samples.is_ok());
  EXPECT_TRUE(r.samples->empty());
  // a good birth afterwards is taken and clears the refusal
  birth();
  EXPECT_FALSE(host.refused().has_value());
}

TEST_F(HostTest, DbirthReusingAnAliasOfTheNodeIsRefused) {
  birth();  // node alias 1 (Temp), device d1 alias 2 (Speed)
  auto r = send("spBv1.0/g/DBIRTH/e/d2", payload(2, {metric("Flow", 1, sp::kDouble, 3.0, true)}));
  ASSERT_FALSE(r.samples.is_ok());
  EXPECT_NE(r.samples.status().message().find("alias 1 of Flow is already Temp"), std::string::npos)
      << r.samples.status().message();
  // d2 is not born: its data asks for a rebirth; d1's redone birth with its own alias is fine
  r = send("spBv1.0/g/DDATA/e/d2", payload(3, {metric(std::nullopt, 1, sp::kDouble, 1.0, false)}));
  EXPECT_TRUE(r.samples.is_ok() && r.samples->empty());
  r = send("spBv1.0/g/DBIRTH/e/d1", payload(4, {metric("Speed", 2, sp::kInt32, std::int64_t{1}, true)}));
  EXPECT_TRUE(r.samples.is_ok()) << r.samples.status().message();
  EXPECT_EQ(host.counters().births_refused, 1u);
}

TEST_F(HostTest, BirthWithANonUtf8MetricNameIsRefused) {
  auto r = send("spBv1.0/g/NBIRTH/e", payload(0, {metric("Te\xffmp", 1, sp::kDouble, 20.5, true)}));
  ASSERT_FALSE(r.samples.is_ok());
  EXPECT_NE(r.samples.status().message().find("not valid UTF-8"), std::string::npos) << r.samples.status().message();
  EXPECT_EQ(host.counters().births_refused, 1u);
}

// An edge node that answers every rebirth request with the same bad birth is asked ever
// more rarely (the interval doubles per refusal), not every rebirth_interval_ms for ever.
TEST_F(HostTest, RebirthRequestsSlowDownWhileTheBirthsKeepBeingRefused) {
  const auto bad_birth = payload(0, {metric("A", 1, sp::kDouble, 1.0, true), metric("B", 1, sp::kDouble, 2.0, true)});
  const auto data = payload(1, {metric(std::nullopt, 1, sp::kDouble, 1.0, false)});
  std::vector<std::int64_t> requested_at_ms;
  for (std::int64_t ms = 0; ms <= 120'000; ms += 500) {
    if (send("spBv1.0/g/NDATA/e", data).outgoing.size() == 1) {
      requested_at_ms.push_back(ms);
      EXPECT_FALSE(send("spBv1.0/g/NBIRTH/e", bad_birth).samples.is_ok());  // the node's answer
    }
    clock.advance_us(500'000);
  }
  // 5 s interval: requests at 0, then after 10, 20, 40 s (doubling per refused birth)
  EXPECT_EQ(requested_at_ms, (std::vector<std::int64_t>{0, 10'000, 30'000, 70'000}));
  EXPECT_EQ(host.counters().rebirths_requested, 4u);
  // a lost connection does not restart the requests at full speed
  host.on_connection_lost();
  EXPECT_TRUE(send("spBv1.0/g/NDATA/e", data).outgoing.empty());
}

TEST(HostState, WillAndOnlineShareTheTimestamp) {
  ManualClock clock;
  SparkplugOptions o;
  o.host_id = "uc1";
  SparkplugHost host(o, clock);
  const auto will = host.will();
  ASSERT_TRUE(will);
  EXPECT_EQ(will->topic, "spBv1.0/STATE/uc1");
  EXPECT_TRUE(will->retain);
  EXPECT_EQ(will->qos, 1);
  const std::string off(will->payload.begin(), will->payload.end());
  EXPECT_EQ(off, "{\"online\":false,\"timestamp\":1700000000000}");
  const auto on = host.on_connected();
  ASSERT_EQ(on.size(), 1u);
  EXPECT_EQ(std::string(on[0].payload.begin(), on[0].payload.end()), "{\"online\":true,\"timestamp\":1700000000000}");
  EXPECT_EQ(host.subscriptions(), std::vector<std::string>{"spBv1.0/STATE/uc1"});
  // our own topic says offline while we are connected: we say online again
  const std::string text = off;
  const auto r = host.handle("spBv1.0/STATE/uc1", reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), 0);
  EXPECT_EQ(r.outgoing.size(), 1u);
}

}  // namespace
}  // namespace uc::sources::mqtt
