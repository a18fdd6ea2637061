#include "simulator/mqtt/plant.h"

#include <gtest/gtest.h>

#include "protocols/sparkplug/payload.h"

namespace uc::simulator::mqtt {
namespace {
namespace sp = protocols::sparkplug;

sp::Payload decode(const Message& m) {
  auto r = sp::decode_payload(m.payload.data(), m.payload.size());
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? *r : sp::Payload{};
}

TEST(MqttPlant, BirthsCarryAliasesAndDataUsesOnlyAliases) {
  PlantOptions o;
  o.json = false;
  Plant plant(o);
  const auto will = plant.will_for_connect();
  EXPECT_EQ(will.topic, "spBv1.0/sim/NDEATH/sim-edge");
  EXPECT_EQ(will.qos, 1);
  const auto births = plant.births(1700000000000);
  ASSERT_EQ(births.size(), 3u);
  EXPECT_EQ(births[0].topic, "spBv1.0/sim/NBIRTH/sim-edge");
  const auto nb = decode(births[0]);
  EXPECT_EQ(*nb.seq, 0u);
  EXPECT_EQ(*nb.metrics[0].name, "bdSeq");
  EXPECT_EQ(*nb.metrics[1].name, "Node Control/Rebirth");
  EXPECT_FALSE(nb.metrics[1].alias.has_value());
  EXPECT_EQ(births[2].topic, "spBv1.0/sim/DBIRTH/sim-edge/dev2");
  const auto db = decode(births[1]);
  EXPECT_EQ(*db.seq, 1u);
  for (const auto& m : db.metrics) {
    EXPECT_TRUE(m.name && m.alias && m.datatype);
    EXPECT_TRUE(sp::metric_value(m, *m.datatype).is_ok());
  }
  const auto data = plant.tick(1700000001000);
  ASSERT_EQ(data.size(), 2u);
  const auto dd = decode(data[0]);
  EXPECT_EQ(*dd.seq, 3u);
  for (const auto& m : dd.metrics) {
    EXPECT_FALSE(m.name.has_value());
    EXPECT_FALSE(m.datatype.has_value());
    EXPECT_TRUE(m.alias.has_value());
  }
}

TEST(MqttPlant, SeqWrapsBdSeqIncrementsAndRebirthIsAnswered) {
  PlantOptions o;
  o.json = false;
  o.devices = 1;
  Plant plant(o);
  (void)plant.will_for_connect();
  (void)plant.births(0);  // seq 0, 1
  std::uint64_t last = 1;
  for (int i = 0; i < 300; ++i) {
    const auto seq = *decode(plant.tick(i)[0]).seq;
    EXPECT_EQ(seq, (last + 1) % 256);
    last = seq;
  }
  const auto w2 = plant.will_for_connect();
  EXPECT_EQ(plant.bdseq(), 1u);
  sp::OutPayload cmd;
  sp::OutMetric m;
  m.name = "Node Control/Rebirth";
  m.datatype = sp::kBoolean;
  m.value_type = sp::kBoolean;
  m.value = true;
  cmd.metrics.push_back(m);
  const auto again = plant.on_message("spBv1.0/sim/NCMD/sim-edge", sp::encode_payload(cmd), 5);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(*decode(again[0]).seq, 0u);
  EXPECT_EQ(plant.rebirths(), 1u);
  EXPECT_TRUE(plant.on_message("spBv1.0/sim/NCMD/sim-edge", {1, 2, 3}, 5).empty());
}

TEST(MqttPlant, JsonMessages) {
  PlantOptions o;
  o.sparkplug = false;
  Plant plant(o);
  const auto msgs = plant.tick(1700000000000);
  ASSERT_EQ(msgs.size(), 10u);
  EXPECT_EQ(msgs[0].topic, "factory/line1/press1/temperature");
  const std::string text(msgs[4].payload.begin(), msgs[4].payload.end());
  EXPECT_NE(text.find("\"value\":\""), std::string::npos);  // the state string is quoted
  EXPECT_NE(text.find("\"timestamp\":1700000000000"), std::string::npos);
}

}  // namespace
}  // namespace uc::simulator::mqtt
