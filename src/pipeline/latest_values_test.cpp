#include "pipeline/latest_values.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace uc::pipeline {
namespace {

std::shared_ptr<const TagInfo> tag(std::string source, std::string path, std::string unit = "") {
  auto t = std::make_shared<TagInfo>();
  t->source_name = std::move(source);
  t->tag_path = std::move(path);
  t->unit = std::move(unit);
  return t;
}

Record number(const std::shared_ptr<const TagInfo>& t, double v, TimestampUs at = 1000) {
  Record r;
  r.tag = t;
  r.value_type = ValueKind::kDouble;
  r.value_num = v;
  r.value_str = std::to_string(v);
  r.event_time = at;
  r.ingest_time = at + 1;
  return r;
}

LatestValues::Query query(std::string source, std::string prefix, std::string glob, std::size_t offset,
                         std::size_t limit) {
  LatestValues::Query q;
  q.source = std::move(source);
  q.prefix = std::move(prefix);
  q.glob = std::move(glob);
  q.offset = offset;
  q.limit = limit;
  return q;
}

std::vector<std::string> paths(const LatestValues::Page& page) {
  std::vector<std::string> out;
  for (const auto& v : page.tags) out.push_back(v.tag->tag_path);
  return out;
}

TEST(LatestValues, KeepsTheLatestValueQualityAndTimesPerPath) {
  LatestValues table;
  LatestValues::Writer w(table);
  auto t = tag("s1", "plant/a/temp", "degC");
  Record bad = number(t, 2.5, 2000);
  bad.quality = Quality::kBad;
  bad.status_code = 0x80340000;
  w.update({number(t, 1.0), bad});
  auto v = table.find("plant/a/temp");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v->value_num, 2.5);
  EXPECT_EQ(v->quality, Quality::kBad);
  EXPECT_EQ(v->status_code, 0x80340000);
  EXPECT_EQ(v->event_time, 2000);
  EXPECT_EQ(v->ingest_time, 2001);
  EXPECT_EQ(v->tag->unit, "degC");
  EXPECT_EQ(v->tag->source_name, "s1");
  EXPECT_EQ(v->updates, 2u);
  EXPECT_FALSE(table.find("plant/a"));
  EXPECT_EQ(table.size(), 1u);
}

TEST(LatestValues, ListsSortedAndFiltersBySourcePrefixAndGlob) {
  LatestValues table;
  LatestValues::Writer w1(table), w2(table);
  w1.update({number(tag("s1", "p/l2/speed"), 1), number(tag("s1", "p/l1/temp"), 2), number(tag("s1", "q/x"), 3)});
  w2.update({number(tag("s2", "p/l1/speed"), 4), number(tag("s2", "p/l10/temp"), 5)});

  EXPECT_EQ(paths(table.list(query("", "", "", 0, 100))),
            (std::vector<std::string>{"p/l1/speed", "p/l1/temp", "p/l10/temp", "p/l2/speed", "q/x"}));
  EXPECT_EQ(paths(table.list(query("s2", "", "", 0, 100))), (std::vector<std::string>{"p/l1/speed", "p/l10/temp"}));
  EXPECT_EQ(paths(table.list(query("", "p/l1", "", 0, 100))),
            (std::vector<std::string>{"p/l1/speed", "p/l1/temp", "p/l10/temp"}));
  EXPECT_EQ(paths(table.list(query("", "p/l1/", "", 0, 100))), (std::vector<std::string>{"p/l1/speed", "p/l1/temp"}));
  EXPECT_EQ(paths(table.list(query("", "", "p/*/temp", 0, 100))), (std::vector<std::string>{"p/l1/temp", "p/l10/temp"}));
  EXPECT_EQ(paths(table.list(query("", "", "**/speed", 0, 100))), (std::vector<std::string>{"p/l1/speed", "p/l2/speed"}));
  EXPECT_EQ(paths(table.list(query("s1", "p/", "**/temp", 0, 100))),
            (std::vector<std::string>{"p/l1/temp"}));
  EXPECT_EQ(table.list(query("nobody", "", "", 0, 100)).total, 0u);
  EXPECT_EQ(table.list(query("", "zzz", "", 0, 100)).total, 0u);
}

TEST(LatestValues, PagesWithTotal) {
  LatestValues table;
  LatestValues::Writer w(table);
  std::vector<Record> records;
  for (int i = 0; i < 25; ++i) {
    char path[16];
    std::snprintf(path, sizeof path, "t/%02d", i);
    records.push_back(number(tag("s", path), i));
  }
  w.update(records);
  auto page = table.list(query("", "", "", 10, 5));
  EXPECT_EQ(page.total, 25u);
  EXPECT_EQ(paths(page), (std::vector<std::string>{"t/10", "t/11", "t/12", "t/13", "t/14"}));
  page = table.list(query("", "", "", 23, 5));
  EXPECT_EQ(paths(page), (std::vector<std::string>{"t/23", "t/24"}));
  page = table.list(query("", "", "", 100, 5));
  EXPECT_EQ(page.total, 25u);
  EXPECT_TRUE(page.tags.empty());
  EXPECT_TRUE(table.list(query("", "", "", 0, 0)).tags.empty());
}

TEST(LatestValues, BoundedByCapacityAndCountsWhatItCannotHold) {
  LatestValues table(3);
  LatestValues::Writer w(table);
  auto a = tag("s1", "a"), b = tag("s1", "b"), c = tag("s2", "c"), d = tag("s2", "d"), e = tag("s2", "e");
  w.update({number(a, 1), number(b, 1), number(c, 1), number(d, 1), number(e, 1)});
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.untracked_updates(), 2u);
  for (int i = 0; i < 100; ++i) w.update({number(a, i), number(d, i)});
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.untracked_updates(), 102u);
  EXPECT_EQ(*table.find("a")->value_num, 99);
  EXPECT_FALSE(table.find("d"));

  // Slots freed by a drop are taken by paths that were refused before.
  EXPECT_EQ(table.drop_source("s1"), 2u);
  w.update({number(d, 7), number(e, 8)});
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(*table.find("d")->value_num, 7);
  EXPECT_EQ(*table.find("e")->value_num, 8);
  EXPECT_FALSE(table.find("a"));
}

TEST(LatestValues, DropSourceFreesOnlyItsOwnSlotsAndWritersRecover) {
  LatestValues table;
  LatestValues::Writer w1(table), w2(table);
  auto mine = tag("s1", "x/1"), theirs = tag("s2", "x/2");
  w1.update({number(mine, 1)});
  w2.update({number(theirs, 2)});
  EXPECT_EQ(table.drop_source("s1"), 1u);
  EXPECT_EQ(table.drop_source("s1"), 0u);
  EXPECT_FALSE(table.find("x/1"));
  ASSERT_TRUE(table.find("x/2"));
  // The dropped slot is reused by another path; the first writer's cache must not write
  // into it.
  LatestValues::Writer w3(table);
  w3.update({number(tag("s3", "y/1"), 3)});
  w1.update({number(mine, 4)});
  EXPECT_EQ(*table.find("y/1")->value_num, 3);
  EXPECT_EQ(*table.find("x/1")->value_num, 4);
  EXPECT_EQ(table.find("x/1")->updates, 1u);
}

TEST(LatestValues, OnePathFromTwoSourcesKeepsTheLastWriter) {
  LatestValues table;
  LatestValues::Writer w1(table), w2(table);
  w1.update({number(tag("s1", "shared"), 1)});
  w2.update({number(tag("s2", "shared"), 2)});
  auto v = table.find("shared");
  EXPECT_EQ(v->tag->source_name, "s2");
  EXPECT_EQ(*v->value_num, 2);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.drop_source("s1"), 0u);  // s2 wrote it last
  EXPECT_EQ(table.drop_source("s2"), 1u);
}

TEST(LatestValues, NewTagInfoForAKnownPathUpdatesItsSlot) {
  LatestValues table;
  LatestValues::Writer w(table);
  w.update({number(tag("s", "p", "bar"), 1)});
  w.reset();
  w.update({number(tag("s", "p", "psi"), 2)});
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.find("p")->tag->unit, "psi");
  Record no_tag;
  w.update({no_tag});  // ignored, not a crash
  EXPECT_EQ(table.size(), 1u);
}

// Writers on their own threads, readers listing and finding meanwhile: every value read
// is one that was written, per-path values never go backwards, and the end state is the
// last value of each tag.
TEST(LatestValues, ConcurrentWritersAndReaders) {
  constexpr int kWriters = 4, kTags = 200, kRounds = 300;
  LatestValues table;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      LatestValues::Writer writer(table);
      std::vector<std::shared_ptr<const TagInfo>> tags;
      for (int i = 0; i < kTags; ++i) tags.push_back(tag("s" + std::to_string(w), "w" + std::to_string(w) + "/t" + std::to_string(i)));
      for (int round = 1; round <= kRounds; ++round) {
        std::vector<Record> batch;
        for (const auto& t : tags) batch.push_back(number(t, round, round));
        writer.update(batch);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      std::vector<double> last(kWriters * kTags, 0);
      while (!done.load()) {
        auto page = table.list(query("", "", "", 0, 1000));
        std::string previous;
        for (const auto& v : page.tags) {
          if (v.tag->tag_path <= previous) bad++;
          previous = v.tag->tag_path;
          if (!v.value_num || *v.value_num < 1 || *v.value_num > kRounds || v.event_time != *v.value_num) bad++;
        }
        auto one = table.find("w1/t7");
        if (one) {
          if (*one->value_num < last[0]) bad++;
          last[0] = *one->value_num;
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (std::size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(bad.load(), 0);
  auto page = table.list(query("", "", "", 0, 1000));
  EXPECT_EQ(page.total, static_cast<std::size_t>(kWriters * kTags));
  for (const auto& v : page.tags) {
    EXPECT_EQ(*v.value_num, kRounds);
    EXPECT_EQ(v.updates, static_cast<std::uint64_t>(kRounds));
  }
}

}  // namespace
}  // namespace uc::pipeline
