#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pipeline/queue.h"

namespace uc::pipeline {
namespace {

std::vector<Record> make_records(std::size_t n, std::int64_t first = 0) {
  std::vector<Record> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i].status_code = first + static_cast<std::int64_t>(i);
  return v;
}

struct AckProbe {
  std::atomic<int> calls{0};
  BatchOutcome last;
  AckRef make(std::size_t n) {
    return std::make_shared<AckState>(n, [this](const BatchOutcome& o) {
      last = o;
      calls++;
    });
  }
};

BatchLimits limits(std::size_t max_records, std::chrono::microseconds linger = std::chrono::microseconds(0)) {
  BatchLimits l;
  l.max_records = max_records;
  l.linger = linger;
  return l;
}

TEST(AckState, FiresOnceWhenAllResolved) {
  AckProbe p;
  auto ack = p.make(5);
  ack->resolve(2, 0, 0);
  EXPECT_EQ(p.calls, 0);
  ack->resolve(1, 1, 1);
  EXPECT_EQ(p.calls, 1);
  EXPECT_EQ(p.last.delivered, 3u);
  EXPECT_EQ(p.last.dropped, 1u);
  EXPECT_EQ(p.last.rejected, 1u);
  EXPECT_FALSE(p.last.all_delivered());
}

TEST(RecordQueue, FifoAcrossChunksAndSpans) {
  RecordQueue q(100, DropPolicy::kBlock);
  AckProbe a, b;
  auto ra = a.make(3), rb = b.make(4);
  q.push(make_records(3, 0), ra);
  q.push(make_records(4, 3), rb);
  EXPECT_EQ(q.size(), 7u);
  std::vector<Record> out;
  std::vector<AckSpan> acks;
  ASSERT_TRUE(q.pop_batch(limits(5), std::chrono::milliseconds(10), out, acks));
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[static_cast<std::size_t>(i)].status_code, i);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].count, 3u);
  EXPECT_EQ(acks[1].count, 2u);
  out.clear();
  acks.clear();
  ASSERT_TRUE(q.pop_batch(limits(5), std::chrono::milliseconds(10), out, acks));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status_code, 5);
  EXPECT_EQ(q.size(), 0u);
}

TEST(RecordQueue, MaxBytesSplitsBatchButTakesAtLeastOne) {
  RecordQueue q(100, DropPolicy::kBlock);
  AckProbe a;
  auto records = make_records(10);
  for (auto& r : records) r.value_str.assign(1000, 'x');
  q.push(std::move(records), a.make(10));
  BatchLimits l = limits(100);
  l.max_bytes = 2500;
  std::vector<Record> out;
  std::vector<AckSpan> acks;
  ASSERT_TRUE(q.pop_batch(l, std::chrono::milliseconds(10), out, acks));
  EXPECT_EQ(out.size(), 2u);
  l.max_bytes = 1;
  out.clear();
  ASSERT_TRUE(q.pop_batch(l, std::chrono::milliseconds(10), out, acks));
  EXPECT_EQ(out.size(), 1u);
}

TEST(RecordQueue, DropNewestRefusesAndResolves) {
  RecordQueue q(4, DropPolicy::kDropNewest);
  AckProbe a;
  auto r = q.push(make_records(6), a.make(6));
  EXPECT_EQ(r.accepted, 4u);
  EXPECT_EQ(r.dropped_newest, 2u);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(a.calls, 0);  // 4 still pending
}

TEST(RecordQueue, DropOldestEvictsFrontAndKeepsNewest) {
  RecordQueue q(4, DropPolicy::kDropOldest);
  AckProbe a, b;
  q.push(make_records(4, 0), a.make(4));
  auto r = q.push(make_records(3, 100), b.make(3));
  EXPECT_EQ(r.accepted, 3u);
  EXPECT_EQ(r.dropped_oldest, 3u);
  std::vector<Record> out;
  std::vector<AckSpan> acks;
  ASSERT_TRUE(q.pop_batch(limits(10), std::chrono::milliseconds(10), out, acks));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].status_code, 3);
  EXPECT_EQ(out[1].status_code, 100);
  EXPECT_EQ(out[3].status_code, 102);
}

TEST(RecordQueue, DropOldestWithBatchLargerThanCapacity) {
  RecordQueue q(3, DropPolicy::kDropOldest);
  AckProbe a;
  auto r = q.push(make_records(7), a.make(7));
  EXPECT_EQ(r.accepted, 7u);
  EXPECT_EQ(r.dropped_oldest, 4u);
  EXPECT_EQ(q.size(), 3u);
}

TEST(RecordQueue, BlockWaitsForRoomThenProceeds) {
  RecordQueue q(2, DropPolicy::kBlock);
  AckProbe a;
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    q.push(make_records(5), a.make(5));
    pushed = true;
  });
  std::vector<Record> all;
  while (all.size() < 5) {
    std::vector<Record> out;
    std::vector<AckSpan> acks;
    if (q.pop_batch(limits(2), std::chrono::milliseconds(100), out, acks)) {
      for (auto& s : acks) s.ack->resolve(s.count, 0, 0);
      for (auto& r : out) all.push_back(std::move(r));
    }
  }
  producer.join();
  EXPECT_TRUE(pushed);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(all[i].status_code, static_cast<std::int64_t>(i));
  EXPECT_EQ(a.calls, 1);
  EXPECT_TRUE(a.last.all_delivered());
}

TEST(RecordQueue, CloseReleasesBlockedProducer) {
  RecordQueue q(1, DropPolicy::kBlock);
  AckProbe a;
  PushResult r;
  std::thread producer([&] { r = q.push(make_records(3), a.make(3)); });
  // The producer holds one record in the queue and waits for room for the rest.
  while (q.size() == 0) std::this_thread::yield();
  q.close();
  producer.join();
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.dropped_closed, 2u);
  auto spans = q.drain_all();
  ASSERT_EQ(spans.size(), 1u);
  spans[0].ack->resolve(0, spans[0].count, 0);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(a.last.dropped, 3u);
}

TEST(RecordQueue, LingerGathersUntilMaxRecords) {
  RecordQueue q(100, DropPolicy::kBlock);
  AckProbe a;
  auto ack = a.make(10);
  std::thread producer([&] {
    for (int i = 0; i < 10; ++i) q.push(make_records(1, i), ack);
  });
  std::vector<Record> out;
  std::vector<AckSpan> acks;
  // A long linger: the batch is released by reaching max_records, not by time.
  ASSERT_TRUE(q.pop_batch(limits(10, std::chrono::seconds(30)), std::chrono::seconds(30), out, acks));
  producer.join();
  EXPECT_EQ(out.size(), 10u);
}

TEST(RecordQueue, PopTimesOutWhenEmpty) {
  RecordQueue q(10, DropPolicy::kBlock);
  std::vector<Record> out;
  std::vector<AckSpan> acks;
  EXPECT_FALSE(q.pop_batch(limits(10), std::chrono::milliseconds(1), out, acks));
  q.close();
  EXPECT_FALSE(q.pop_batch(limits(10), std::chrono::seconds(10), out, acks));
}

}  // namespace
}  // namespace uc::pipeline
