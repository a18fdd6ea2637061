// Damaged and unexpected spool directories: every case ends in a clear note or a clear
// refusal, never a crash and never a record lost without being counted.
#include <gtest/gtest.h>

#include <set>

#include "buffer/spool.h"
#include "buffer/spool_format.h"
#include "buffer/spool_test_util.h"

namespace uc::buffer {
namespace {

using testing::TempDir;

SpoolOptions opts(const std::string& dir, FsyncPolicy p = FsyncPolicy::kNever) {
  SpoolOptions o;
  o.directory = dir;
  o.fsync = p;
  o.segment_bytes = 1024;
  o.max_bytes = 1 << 20;
  return o;
}

std::string payload(std::uint64_t i) { return "record-" + std::to_string(i) + std::string(40, 'x'); }

// n records of ~60 bytes over several 1 KiB segments; acks `acked`.
void fill(const SpoolOptions& o, std::uint64_t n, std::uint64_t acked = 0) {
  auto s = std::move(Spool::open(o, SystemClock::instance())).value();
  for (std::uint64_t i = 1; i <= n; ++i) {
    const std::string p = payload(i);
    ASSERT_TRUE(s->append({p}).is_ok());
  }
  if (acked > 0) {
    std::vector<SpoolRecord> out;
    ASSERT_TRUE(s->read(static_cast<std::size_t>(acked), 1 << 30, out).is_ok());
    ASSERT_TRUE(s->ack(acked).is_ok());
  }
}

std::vector<SpoolRecord> read_all(Spool& s) {
  std::vector<SpoolRecord> all, out;
  do {
    EXPECT_TRUE(s.read(100, 1 << 30, out).is_ok());
    all.insert(all.end(), out.begin(), out.end());
  } while (!out.empty());
  return all;
}

std::string joined(const RecoveryReport& r) {
  std::string s;
  for (const auto& n : r.notes) s += n + "\n";
  return s;
}

// The offset of the frame holding `seq` in a segment file.
std::uint64_t frame_offset(const std::string& data, std::uint64_t seq) {
  std::uint64_t pos = format::kSegHeader;
  while (pos + format::kFrameHeader <= data.size()) {
    if (format::get64(data.data() + pos + 8) == seq) return pos;
    pos += format::kFrameHeader + format::get32(data.data() + pos);
  }
  ADD_FAILURE() << "seq " << seq << " not found";
  return 0;
}

// Expects records 1..n except `missing`, in order.
void expect_records(Spool& s, std::uint64_t from, std::uint64_t n, std::set<std::uint64_t> missing = {}) {
  auto all = read_all(s);
  std::size_t k = 0;
  for (std::uint64_t i = from; i <= n; ++i) {
    if (missing.count(i) != 0) continue;
    ASSERT_LT(k, all.size()) << "record " << i << " not replayed";
    EXPECT_EQ(all[k].seq, i);
    EXPECT_EQ(all[k].payload, payload(i));
    ++k;
  }
  EXPECT_EQ(k, all.size());
}

Result<std::unique_ptr<Spool>> reopen(const SpoolOptions& o) { return Spool::open(o, SystemClock::instance()); }

class SpoolRecovery : public ::testing::Test {
 protected:
  TempDir tmp;
  SpoolOptions o = opts(tmp.sub("s"));
  std::vector<std::string> segs() { return testing::segment_files(o.directory); }
};

TEST_F(SpoolRecovery, FlippedPayloadByteInTheMiddleIsSkippedAndCounted) {
  fill(o, 60);
  ASSERT_GE(segs().size(), 3u);
  const std::string seg = segs()[1];
  const std::string data = testing::read_file(seg);
  const std::uint64_t first = format::get64(data.data() + 16);
  const std::uint64_t victim = first + 3;
  testing::flip_byte(seg, frame_offset(data, victim) + format::kFrameHeader + 5);
  auto s = std::move(reopen(o)).value();
  EXPECT_EQ(s->recovery().corrupt_records_skipped, 1u);
  EXPECT_EQ(s->corrupt_skipped(), 1u);
  EXPECT_NE(joined(s->recovery()).find("1 corrupt record(s) skipped (seq " + std::to_string(victim)),
            std::string::npos)
      << joined(s->recovery());
  EXPECT_EQ(s->recovery().records, 59u);
  EXPECT_EQ(s->unacked(), 59u);
  expect_records(*s, 1, 60, {victim});
  EXPECT_EQ(*s->append({"next"}), 61u);
}

TEST_F(SpoolRecovery, FlippedLengthByteIsResyncedAndCounted) {
  fill(o, 60);
  const std::string seg = segs()[0];
  const std::string data = testing::read_file(seg);
  testing::flip_byte(seg, frame_offset(data, 4));  // low byte of record 4's length
  auto s = std::move(reopen(o)).value();
  EXPECT_EQ(s->recovery().corrupt_records_skipped, 1u) << joined(s->recovery());
  expect_records(*s, 1, 60, {4});
}

TEST_F(SpoolRecovery, ImplausibleLengthIsResyncedAndCounted) {
  fill(o, 60);
  const std::string seg = segs()[0];
  std::string data = testing::read_file(seg);
  format::put32(data.data() + frame_offset(data, 2), 0xFFFFFFF0u);
  testing::write_file(seg, data);
  auto s = std::move(reopen(o)).value();
  EXPECT_EQ(s->recovery().corrupt_records_skipped, 1u) << joined(s->recovery());
  expect_records(*s, 1, 60, {2});
}

TEST_F(SpoolRecovery, SeveralDamagedRecordsInARow) {
  fill(o, 60);
  const std::string seg = segs()[1];
  std::string data = testing::read_file(seg);
  const std::uint64_t first = format::get64(data.data() + 16);
  const std::uint64_t off = frame_offset(data, first + 1);
  const std::uint64_t end = frame_offset(data, first + 4);
  for (std::uint64_t i = off; i < end; ++i) data[i] = '\x7f';
  testing::write_file(seg, data);
  auto s = std::move(reopen(o)).value();
  EXPECT_EQ(s->recovery().corrupt_records_skipped, 3u) << joined(s->recovery());
  expect_records(*s, 1, 60, {first + 1, first + 2, first + 3});
}

TEST_F(SpoolRecovery, CorruptionFoundWhileReadingIsSkippedAndCounted) {
  auto s = std::move(reopen(o)).value();
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(s->append({payload(static_cast<std::uint64_t>(i))}).is_ok());
  const std::string seg = segs()[0];
  testing::flip_byte(seg, frame_offset(testing::read_file(seg), 5) + format::kFrameHeader);
  expect_records(*s, 1, 10, {5});
  EXPECT_EQ(s->corrupt_skipped(), 1u);
  EXPECT_EQ(s->unacked(), 9u);
  s->rewind();
  expect_records(*s, 1, 10, {5});
  EXPECT_EQ(s->corrupt_skipped(), 1u);  // counted once
}

TEST_F(SpoolRecovery, TornTailOfTheLastSegmentIsCut) {
  fill(o, 20);
  const std::string last = segs().back();
  const std::string data = testing::read_file(last);
  testing::write_file(last, data + std::string("\x40\x00\x00\x00garbage", 11));
  auto s = std::move(reopen(o)).value();
  EXPECT_EQ(s->recovery().torn_bytes_cut, 11u);
  EXPECT_EQ(s->recovery().corrupt_records_skipped, 0u);
  EXPECT_EQ(testing::read_file(last), data);
  expect_records(*s, 1, 20);
  EXPECT_EQ(*s->append({payload(21)}), 21u);
}

TEST_F(SpoolRecovery, BadMagicSegmentIsScannedByItsName) {
  fill(o, 60);
  const std::string seg = segs()[1];
  testing::flip_byte(seg, 0);
  auto s = std::move(reopen(o)).value();
  EXPECT_NE(joined(s->recovery()).find("bad header"), std::string::npos) << joined(s->recovery());
  EXPECT_EQ(s->recovery().corrupt_records_skipped, 0u);
  expect_records(*s, 1, 60);
}

TEST_F(SpoolRecovery, GarbageSegmentFilesAreSetAsideNotDeleted) {
  fill(o, 10);
  // A "segment" after the real ones, full of random bytes.
  std::string junk(3000, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7919) % 251);
  const std::string junk_path = o.directory + "/seg-00000000000000000500.log";
  testing::write_file(junk_path, junk);
  testing::write_file(o.directory + "/notes.txt", "hello");
  auto s = std::move(reopen(o)).value();
  const std::string notes = joined(s->recovery());
  EXPECT_NE(notes.find("moved aside"), std::string::npos) << notes;
  EXPECT_NE(notes.find("unknown file notes.txt"), std::string::npos) << notes;
  EXPECT_TRUE(std::filesystem::exists(junk_path + ".corrupt"));
  EXPECT_EQ(testing::read_file(junk_path + ".corrupt"), junk);
  expect_records(*s, 1, 10);
  EXPECT_EQ(*s->append({"x"}), 11u);
}

TEST_F(SpoolRecovery, EmptySegmentFileIsRemoved) {
  fill(o, 10);
  testing::write_file(o.directory + "/seg-00000000000000000011.log", "");
  auto s = std::move(reopen(o)).value();
  EXPECT_NE(joined(s->recovery()).find("shorter than its header"), std::string::npos);
  expect_records(*s, 1, 10);
}

TEST_F(SpoolRecovery, MissingMiddleSegmentIsNotedAndCounted) {
  fill(o, 60);
  const auto files = segs();
  ASSERT_GE(files.size(), 3u);
  const std::string data = testing::read_file(files[1]);
  const std::uint64_t first = format::get64(data.data() + 16);
  const std::uint64_t next_first = *format::parse_segment_name(files[2].substr(files[2].rfind('/') + 1));
  std::filesystem::remove(files[1]);
  auto s = std::move(reopen(o)).value();
  const std::string notes = joined(s->recovery());
  EXPECT_NE(notes.find("records " + std::to_string(first) + ".." + std::to_string(next_first - 1) + " are missing"),
            std::string::npos)
      << notes;
  EXPECT_EQ(s->recovery().corrupt_records_skipped, next_first - first);
  std::set<std::uint64_t> gone;
  for (std::uint64_t i = first; i < next_first; ++i) gone.insert(i);
  expect_records(*s, 1, 60, gone);
  EXPECT_EQ(s->unacked(), 60 - gone.size());
}

TEST_F(SpoolRecovery, MissingLedgerReplaysEverything) {
  fill(o, 30, 10);
  std::filesystem::remove(o.directory + "/ledger");
  auto s = std::move(reopen(o)).value();
  EXPECT_NE(joined(s->recovery()).find("ledger"), std::string::npos);
  // Acked records whose segments still exist come back (at-least-once), none is lost.
  const std::uint64_t first = s->recovery().first_unacked_seq;
  EXPECT_LE(first, 11u);
  EXPECT_EQ(s->recovery().redelivered, s->recovery().records);
  expect_records(*s, first, 30);
}

TEST_F(SpoolRecovery, TruncatedLedgerReplaysEverything) {
  fill(o, 30, 10);
  testing::truncate_file(o.directory + "/ledger", 30);
  auto s = std::move(reopen(o)).value();
  EXPECT_NE(joined(s->recovery()).find("is unreadable"), std::string::npos) << joined(s->recovery());
  expect_records(*s, s->recovery().first_unacked_seq, 30);
  EXPECT_LE(s->recovery().first_unacked_seq, 11u);
}

TEST_F(SpoolRecovery, OneTornLedgerSlotFallsBackToTheOther) {
  fill(o, 30, 10);
  {
    auto s = std::move(reopen(o)).value();
    ASSERT_TRUE(s->ack(12).is_ok());
  }
  // Damage the newest slot: the previous one (ack 10 or 12) is used; nothing unacked is lost.
  const std::string led = o.directory + "/ledger";
  std::string data = testing::read_file(led);
  format::LedgerSlot a, b;
  ASSERT_EQ(format::decode_ledger_slot(data.data(), a), format::SlotParse::kOk);
  ASSERT_EQ(format::decode_ledger_slot(data.data() + 512, b), format::SlotParse::kOk);
  data[a.generation > b.generation ? 30 : 512 + 30] ^= 1;
  testing::write_file(led, data);
  auto s = std::move(reopen(o)).value();
  EXPECT_NE(joined(s->recovery()).find("torn"), std::string::npos) << joined(s->recovery());
  EXPECT_LE(s->acked_seq(), 12u);
  expect_records(*s, s->acked_seq() + 1, 30);
}

TEST_F(SpoolRecovery, LedgerAckPastTheDataContinuesAfterIt) {
  fill(o, 30);
  std::string slot(format::kSlotSize, '\0');
  format::encode_ledger_slot(slot.data(), 99, /*acked=*/100, /*read=*/100, /*durable=*/20, /*next=*/101);
  testing::write_file(o.directory + "/ledger", slot);
  auto s = std::move(reopen(o)).value();
  EXPECT_NE(joined(s->recovery()).find("past the last record on disk"), std::string::npos) << joined(s->recovery());
  EXPECT_EQ(s->recovery().records, 0u);
  EXPECT_EQ(s->next_seq(), 101u);
  EXPECT_EQ(s->unacked(), 0u);
  EXPECT_TRUE(segs().size() <= 1u);
}

TEST_F(SpoolRecovery, LedgerSayingDurableRecordsAreGoneRefusesToStart) {
  o.fsync = FsyncPolicy::kBatch;
  fill(o, 30, 5);  // the ack wrote durable = 30 to the ledger
  // Lose the last segment's records (as a truncating tool or a lying disk would).
  const std::string last = segs().back();
  testing::truncate_file(last, format::kSegHeader + 10);
  auto r = reopen(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("Refusing to start"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("delete " + o.directory + "/ledger"), std::string::npos);
  // The files were not touched by the refusal.
  EXPECT_EQ(std::filesystem::file_size(last), format::kSegHeader + 10);
  // The documented way out: delete the ledger, everything left is replayed.
  std::filesystem::remove(o.directory + "/ledger");
  auto s = std::move(reopen(o)).value();
  EXPECT_GT(s->recovery().records, 0u);
  EXPECT_GT(s->recovery().torn_bytes_cut, 0u);
}

TEST_F(SpoolRecovery, UnknownLedgerVersionRefuses) {
  fill(o, 5);
  std::string slot(format::kSlotSize, '\0');
  format::encode_ledger_slot(slot.data(), 1, 0, 0, 0, 6);
  format::put32(slot.data() + 8, 9);
  format::put32(slot.data() + 60, crc32c(slot.data(), 60));
  testing::write_file(o.directory + "/ledger", slot);
  auto r = reopen(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("format version 9"), std::string::npos) << r.status().message();
}

TEST_F(SpoolRecovery, UnknownSegmentVersionRefuses) {
  fill(o, 5);
  const std::string seg = segs()[0];
  std::string data = testing::read_file(seg);
  format::put32(data.data() + 8, 2);
  format::put32(data.data() + 28, crc32c(data.data(), 28));
  testing::write_file(seg, data);
  auto r = reopen(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("format version 2"), std::string::npos) << r.status().message();
}

TEST_F(SpoolRecovery, OverlappingSegmentsRefuse) {
  fill(o, 30);
  const auto files = segs();
  std::filesystem::copy_file(files[0], o.directory + "/seg-00000000000000000002.log");
  auto r = reopen(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("overlaps"), std::string::npos) << r.status().message();
}

TEST_F(SpoolRecovery, UnopenableSegmentRefuses) {
  fill(o, 5);
  // A directory where a segment should be: open() fails even for root.
  std::filesystem::create_directory(o.directory + "/seg-00000000000000000100.log");
  auto r = reopen(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("cannot open segment seg-00000000000000000100.log"), std::string::npos)
      << r.status().to_string();
}

TEST_F(SpoolRecovery, PathIsARegularFile) {
  testing::write_file(tmp.sub("file"), "x");
  o.directory = tmp.sub("file");
  auto r = reopen(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "spool path " + tmp.sub("file") + " exists and is not a directory");
}

TEST_F(SpoolRecovery, ParentIsARegularFile) {
  testing::write_file(tmp.sub("file"), "x");
  o.directory = tmp.sub("file/spool");
  auto r = reopen(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find(tmp.sub("file")), std::string::npos) << r.status().to_string();
}

TEST_F(SpoolRecovery, BadOptionsAreRejected) {
  o.segment_bytes = 8;
  EXPECT_EQ(reopen(o).status().code(), StatusCode::kInvalidArgument);
  o = opts(tmp.sub("s"));
  o.max_bytes = 100;
  EXPECT_EQ(reopen(o).status().code(), StatusCode::kInvalidArgument);
  o = opts("");
  EXPECT_EQ(reopen(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uc::buffer
