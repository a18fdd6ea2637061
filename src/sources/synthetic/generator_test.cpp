#include <gtest/gtest.h>

#include <set>

#include "sources/synthetic/generator.h"

namespace uc::sources::synthetic {
namespace {

TEST(Generator, DerivedTagsCycleThroughEveryGenerator) {
  Options o;
  o.tag_count = 14;
  auto tags = o.effective_tags();
  ASSERT_EQ(tags.size(), 14u);
  std::set<Generator> kinds;
  std::set<std::string> names;
  for (const auto& t : tags) {
    kinds.insert(t.generator);
    names.insert(t.name);
  }
  EXPECT_EQ(kinds.size(), 7u);
  EXPECT_EQ(names.size(), 14u);  // unique names
  EXPECT_EQ(tags[0].name, "temperature_0");
  EXPECT_EQ(tags[4].name, "cycle_count_4");
}

TEST(Generator, EachTickGivesOneSamplePerTagWithSequence) {
  Options o;
  o.tag_count = 7;
  SignalGenerator g(o.effective_tags(), 1000, 42);
  for (int k = 0; k < 3; ++k) {
    SampleBatch b;
    g.tick(1000 + k, b);
    ASSERT_EQ(b.size(), 7u);
    for (const auto& s : b) {
      ASSERT_EQ(s.metadata.size(), 1u);
      EXPECT_EQ(s.metadata[0].first, "seq");
      EXPECT_EQ(s.metadata[0].second, std::to_string(k));
      EXPECT_EQ(s.source_time, 1000 + k);
      ASSERT_TRUE(s.meta);
      EXPECT_EQ(s.meta->tag_name, s.address);
    }
    // Generator kinds map to value kinds.
    EXPECT_EQ(kind_of(b[0].value), ValueKind::kDouble);   // sine
    EXPECT_EQ(kind_of(b[4].value), ValueKind::kInt);      // counter
    EXPECT_EQ(std::get<std::int64_t>(b[4].value), k);
    EXPECT_EQ(kind_of(b[5].value), ValueKind::kBool);     // bool
    EXPECT_EQ(kind_of(b[6].value), ValueKind::kString);   // string
  }
}

TEST(Generator, ValuesStayWithinConfiguredRangeAndAreDeterministic) {
  std::vector<TagSpec> tags(4);
  Generator gens[] = {Generator::kSine, Generator::kRamp, Generator::kRandomWalk, Generator::kStep};
  for (int i = 0; i < 4; ++i) {
    tags[static_cast<std::size_t>(i)].name = "t" + std::to_string(i);
    tags[static_cast<std::size_t>(i)].generator = gens[i];
    tags[static_cast<std::size_t>(i)].min = -5;
    tags[static_cast<std::size_t>(i)].max = 5;
    tags[static_cast<std::size_t>(i)].period_s = 3;
  }
  SignalGenerator a(tags, 100, 7), b(tags, 100, 7);
  for (int k = 0; k < 500; ++k) {
    SampleBatch ba, bb;
    a.tick(0, ba);
    b.tick(0, bb);
    for (std::size_t i = 0; i < 4; ++i) {
      double v = std::get<double>(ba[i].value);
      EXPECT_GE(v, -5.0);
      EXPECT_LE(v, 5.0);
      EXPECT_EQ(ba[i].value, bb[i].value);
    }
  }
}

TEST(Generator, RunIdTravelsWithEverySample) {
  Options o;
  o.tag_count = 3;
  SignalGenerator g(o.effective_tags(), 1000, 1, "abc123");
  SampleBatch b;
  g.tick(0, b);
  for (const auto& s : b) {
    ASSERT_EQ(s.metadata.size(), 2u);
    EXPECT_EQ(s.metadata[1], (std::pair<std::string, std::string>{"run", "abc123"}));
  }
}

TEST(Generator, BadEveryMarksCommunicationErrors) {
  std::vector<TagSpec> tags(1);
  tags[0].name = "flaky";
  tags[0].bad_every = 3;
  SignalGenerator g(tags, 1000, 1);
  int bad = 0;
  for (int k = 0; k < 9; ++k) {
    SampleBatch b;
    g.tick(0, b);
    if (b[0].status.kind == ProtocolStatus::Kind::kCommError) ++bad;
  }
  EXPECT_EQ(bad, 3);
}

}  // namespace
}  // namespace uc::sources::synthetic
