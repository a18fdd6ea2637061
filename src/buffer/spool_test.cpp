#include "buffer/spool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "buffer/spool_format.h"
#include "buffer/spool_test_util.h"

namespace uc::buffer {
namespace {

using testing::TempDir;

SpoolOptions opts(const std::string& dir, FsyncPolicy p = FsyncPolicy::kBatch) {
  SpoolOptions o;
  o.directory = dir;
  o.fsync = p;
  o.segment_bytes = 4096;
  o.max_bytes = 1 << 20;
  return o;
}

std::unique_ptr<Spool> must_open(const SpoolOptions& o, const Clock& c = SystemClock::instance()) {
  auto r = Spool::open(o, c);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : nullptr;
}

std::vector<SpoolRecord> read_all(Spool& s) {
  std::vector<SpoolRecord> all, batch;
  while (true) {
    EXPECT_TRUE(s.read(1000, 1 << 30, batch).is_ok());
    if (batch.empty()) break;
    for (auto& r : batch) all.push_back(std::move(r));
  }
  return all;
}

TEST(Spool, AppendReadAckRoundTrip) {
  TempDir d;
  auto s = must_open(opts(d.path()));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->next_seq(), 1u);
  EXPECT_EQ(s->acked_seq(), 0u);
  auto first = s->append({"a", "", "ccc"});
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(*first, 1u);
  EXPECT_EQ(*s->append({"d"}), 4u);
  EXPECT_EQ(s->unacked(), 4u);
  EXPECT_EQ(s->unread(), 4u);
  EXPECT_EQ(s->durable_seq(), 4u);
  auto got = read_all(*s);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].payload, "a");
  EXPECT_EQ(got[1].payload, "");
  EXPECT_EQ(got[2].payload, "ccc");
  EXPECT_EQ(got[3].seq, 4u);
  EXPECT_EQ(s->unread(), 0u);
  ASSERT_TRUE(s->ack(2).is_ok());
  EXPECT_EQ(s->unacked(), 2u);
  s->rewind();
  got = read_all(*s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 3u);
  EXPECT_EQ(s->ack(9).code(), StatusCode::kOutOfRange);
}

TEST(Spool, EmptyAppendWritesNothing) {
  TempDir d;
  auto s = must_open(opts(d.path()));
  EXPECT_EQ(*s->append({}), 1u);
  EXPECT_EQ(s->bytes(), 0u);
}

TEST(Spool, ReadHonoursLimitsButReturnsOneBigRecord) {
  TempDir d;
  auto s = must_open(opts(d.path()));
  const std::string big(3000, 'x');
  ASSERT_TRUE(s->append({big, "b", "c"}).is_ok());
  std::vector<SpoolRecord> out;
  ASSERT_TRUE(s->read(10, 100, out).is_ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, big);
  ASSERT_TRUE(s->read(1, 100, out).is_ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "b");
  ASSERT_TRUE(s->read(10, 100, out).is_ok());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(s->read(10, 100, out).is_ok());
  EXPECT_TRUE(out.empty());
}

TEST(Spool, ReadReplacesTheCallersRecordsWhateverTheyHeld) {
  // read() reuses the strings of `out`: nothing of an earlier, longer or more numerous
  // read may show through.
  TempDir d;
  auto s = must_open(opts(d.path()));
  ASSERT_TRUE(s->append({"first-long-payload", "second-long-payload", "third"}).is_ok());
  ASSERT_TRUE(s->append({"x", ""}).is_ok());
  ASSERT_TRUE(s->append({"y", "zz", "www", "vvvv"}).is_ok());
  std::vector<SpoolRecord> out(5, SpoolRecord{99, std::string(50, '#')});
  ASSERT_TRUE(s->read(3, 1 << 20, out).is_ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].payload, "first-long-payload");
  EXPECT_EQ(out[2].payload, "third");
  EXPECT_EQ(out[2].seq, 3u);
  ASSERT_TRUE(s->read(2, 1 << 20, out).is_ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].payload, "x");
  EXPECT_EQ(out[1].payload, "");
  EXPECT_EQ(out[1].seq, 5u);
  ASSERT_TRUE(s->read(10, 1 << 20, out).is_ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].payload, "y");
  EXPECT_EQ(out[1].payload, "zz");
  EXPECT_EQ(out[3].payload, "vvvv");
  EXPECT_EQ(out[3].seq, 9u);
  ASSERT_TRUE(s->read(10, 1 << 20, out).is_ok());
  EXPECT_TRUE(out.empty());
}

TEST(Spool, SegmentsRollAndAreDeletedWhenAcked) {
  TempDir d;
  auto s = must_open(opts(d.path()));
  const std::string p(1000, 'p');
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->append({p}).is_ok());
  EXPECT_GE(testing::segment_files(d.path()).size(), 3u);
  auto got = read_all(*s);
  ASSERT_EQ(got.size(), 10u);
  ASSERT_TRUE(s->ack(10).is_ok());
  // Only the segment being written may remain.
  EXPECT_LE(testing::segment_files(d.path()).size(), 1u);
  // It is recycled by the next append.
  ASSERT_TRUE(s->append({"x"}).is_ok());
  EXPECT_EQ(testing::segment_files(d.path()).size(), 1u);
  EXPECT_EQ(s->bytes(), format::kSegHeader + format::kFrameHeader + 1);
}

TEST(Spool, ReopenReplaysUnackedInOrder) {
  TempDir d;
  {
    auto s = must_open(opts(d.path()));
    for (int i = 1; i <= 20; ++i) ASSERT_TRUE(s->append({std::to_string(i)}).is_ok());
    std::vector<SpoolRecord> out;
    ASSERT_TRUE(s->read(12, 1 << 20, out).is_ok());
    ASSERT_TRUE(s->ack(7).is_ok());
  }
  auto s = must_open(opts(d.path()));
  const auto& rep = s->recovery();
  EXPECT_TRUE(rep.notes.empty()) << rep.notes.front();
  EXPECT_EQ(rep.records, 13u);
  EXPECT_EQ(rep.first_unacked_seq, 8u);
  EXPECT_EQ(rep.next_seq, 21u);
  EXPECT_EQ(rep.redelivered, 5u);  // 8..12 had been read
  auto got = read_all(*s);
  ASSERT_EQ(got.size(), 13u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].seq, 8 + i);
    EXPECT_EQ(got[i].payload, std::to_string(8 + i));
  }
  EXPECT_EQ(*s->append({"21"}), 21u);
}

TEST(Spool, AckPastReadCursorSkipsForward) {
  TempDir d;
  auto s = must_open(opts(d.path()));
  const std::string p(500, 'p');
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(s->append({p + std::to_string(i + 1)}).is_ok());
  ASSERT_TRUE(s->ack(17).is_ok());
  auto got = read_all(*s);
  ASSERT_EQ(got.size(), 13u);
  EXPECT_EQ(got[0].seq, 18u);
  s->rewind();
  got = read_all(*s);
  ASSERT_EQ(got.size(), 13u);
  EXPECT_EQ(got[0].payload, p + "18");
}

TEST(Spool, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir d;
  auto s = must_open(opts(d.path()));
  auto r = Spool::open(opts(d.path()), SystemClock::instance());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("is in use by another process"), std::string::npos) << r.status().message();
  s.reset();
  EXPECT_TRUE(Spool::open(opts(d.path()), SystemClock::instance()).is_ok());
}

TEST(Spool, CapRefusesWithoutWritingAndDropOldestFreesRoom) {
  TempDir d;
  auto o = opts(d.path());
  o.segment_bytes = 2048;
  o.max_bytes = 8192;
  auto s = must_open(o);
  const std::string p(1000, 'z');
  int appended = 0;
  while (true) {
    auto r = s->append({p});
    if (!r.is_ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().to_string();
      break;
    }
    ++appended;
  }
  ASSERT_GT(appended, 3);
  const auto bytes = s->bytes();
  const auto next = s->next_seq();
  EXPECT_LE(bytes, o.max_bytes);
  auto files_before = testing::segment_files(d.path());
  EXPECT_FALSE(s->append({p}).is_ok());
  EXPECT_EQ(s->bytes(), bytes);
  EXPECT_EQ(s->next_seq(), next);
  std::uint64_t on_disk = 0;
  for (const auto& f : files_before) on_disk += std::filesystem::file_size(f);
  EXPECT_EQ(on_disk, bytes);

  const std::uint64_t dropped = s->drop_oldest_segment();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(s->acked_seq(), dropped);
  EXPECT_EQ(s->unacked(), static_cast<std::uint64_t>(appended) - dropped);
  EXPECT_LT(s->bytes(), bytes);
  ASSERT_TRUE(s->append({p}).is_ok());
  auto got = read_all(*s);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().seq, dropped + 1);
}

TEST(Spool, DropOldestWhenOnlyTheActiveSegmentExists) {
  TempDir d;
  auto s = must_open(opts(d.path()));
  ASSERT_TRUE(s->append({"a", "b"}).is_ok());
  EXPECT_EQ(s->drop_oldest_segment(), 2u);
  EXPECT_EQ(s->unacked(), 0u);
  EXPECT_EQ(s->bytes(), 0u);
  EXPECT_EQ(*s->append({"c"}), 3u);
  auto got = read_all(*s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "c");
  EXPECT_EQ(s->drop_oldest_segment(), 1u);
  EXPECT_EQ(s->drop_oldest_segment(), 0u);
}

TEST(Spool, OversizeRecordIsInvalid) {
  TempDir d;
  auto o = opts(d.path());
  o.max_record_bytes = 10;
  auto s = must_open(o);
  EXPECT_EQ(s->append({"ok", std::string(11, 'x')}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->next_seq(), 1u);
}

TEST(Spool, IntervalPolicySyncsWhenDue) {
  TempDir d;
  ManualClock clock;
  auto o = opts(d.path(), FsyncPolicy::kInterval);
  o.fsync_interval = std::chrono::milliseconds(100);
  auto s = must_open(o, clock);
  ASSERT_TRUE(s->append({"a"}).is_ok());
  EXPECT_EQ(s->durable_seq(), 0u);
  s->sync_if_due();
  EXPECT_EQ(s->durable_seq(), 0u);
  clock.advance_us(100'000);
  s->sync_if_due();
  EXPECT_EQ(s->durable_seq(), 1u);
  ASSERT_TRUE(s->append({"b"}).is_ok());
  EXPECT_EQ(s->durable_seq(), 1u);
  clock.advance_us(100'000);
  ASSERT_TRUE(s->append({"c"}).is_ok());  // due: synced on append
  EXPECT_EQ(s->durable_seq(), 3u);
}

TEST(Spool, NeverPolicySyncsOnlyOnFlush) {
  TempDir d;
  auto s = must_open(opts(d.path(), FsyncPolicy::kNever));
  ASSERT_TRUE(s->append({"a", "b"}).is_ok());
  EXPECT_EQ(s->durable_seq(), 0u);
  ASSERT_TRUE(s->flush().is_ok());
  EXPECT_EQ(s->durable_seq(), 2u);
}

TEST(Spool, OneAppenderOneReaderConcurrently) {
  TempDir d;
  auto o = opts(d.path(), FsyncPolicy::kNever);
  o.segment_bytes = 64 << 10;
  o.max_bytes = 64 << 20;
  auto s = must_open(o);
  constexpr int kN = 20000;
  std::thread writer([&] {
    for (int i = 1; i <= kN; i += 10) {
      std::vector<std::string> own;
      for (int k = 0; k < 10; ++k) own.push_back(std::to_string(i + k));
      std::vector<std::string_view> v(own.begin(), own.end());
      ASSERT_TRUE(s->append(v).is_ok());
    }
  });
  std::uint64_t expect = 1;
  std::vector<SpoolRecord> out;
  int rewinds = 0;
  while (expect <= kN) {
    ASSERT_TRUE(s->read(37, 1 << 20, out).is_ok());
    for (const auto& r : out) {
      ASSERT_EQ(r.seq, expect);
      ASSERT_EQ(r.payload, std::to_string(expect));
      ++expect;
    }
    if (!out.empty()) {
      if (out.size() % 5 == 0 && rewinds < 200) {
        ++rewinds;
        s->rewind();
        expect = s->acked_seq() + 1;
      } else {
        ASSERT_TRUE(s->ack(out.back().seq).is_ok());
      }
    }
  }
  writer.join();
  EXPECT_EQ(s->unacked(), 0u);
}

}  // namespace
}  // namespace uc::buffer
