// Disk spool: one target's durable FIFO of opaque records, on local disk.
//
// What it is. An append-only log split into segment files, a tiny ledger holding the
// acknowledgement position, and an in-memory read cursor. Records get consecutive sequence
// numbers (seq, starting at 1). The consumer reads, delivers, and acknowledges "everything
// up to seq N"; a segment file is deleted only when every record in it is acknowledged (or
// deliberately dropped with drop_oldest_segment()). Nothing is ever rewritten in place.
// It must never lose a record silently: anything it cannot replay is counted and explained
// (RecoveryReport::notes), and a state that would mean losing records the spool had
// reported durable refuses to open.
//
// ON-DISK FORMAT (version 1; all integers little-endian)
//   <dir>/LOCK                       flock(LOCK_EX) while a Spool has the directory open.
//   <dir>/seg-<first seq, 20 digits>.log
//       header, 32 bytes:
//         0  char[8] magic "UCSPOOL\0"
//         8  u32     format version (1)
//        12  u32     header size (32)
//        16  u64     first seq of the segment
//        24  u32     reserved (0)
//        28  u32     CRC32C of bytes 0..27
//       then frames, back to back, seqs consecutive:
//         0  u32 payload length
//         4  u32 CRC32C over (the 8 seq bytes, then the payload)
//         8  u64 seq
//        16  payload
//   <dir>/ledger                     two 64-byte slots at offsets 0 and 512, written
//       alternately (pwrite of one slot; the other stays intact if the write tears):
//         0  char[8] magic "UCLEDGR\0"
//         8  u32     format version (1)
//        12  u32     reserved (0)
//        16  u64     generation (the valid slot with the higher one wins)
//        24  u64     acked seq: every seq <= it is done (0 = none)
//        32  u64     read seq: highest seq handed to a reader (for RecoveryReport::redelivered)
//        40  u64     durable seq: every seq <= it was on stable storage (fdatasync returned)
//        48  u64     next seq at the time of writing
//        56  u32     reserved (0)
//        60  u32     CRC32C of bytes 0..59
//   <name>.corrupt                   a segment moved aside by recovery (nothing readable in it).
// A batch passed to append() is written with one pwrite into one segment: a segment is
// closed ("rolled") before a batch that would take it past segment_bytes, so a segment
// can be bigger than segment_bytes only by holding one batch that is.
//
// RECOVERY (open). Segments are scanned in seq order and every frame's CRC is checked.
//   - Torn tail: a partial or unreadable frame at the end of the last segment with no valid
//     frame after it is cut off (ftruncate); counted in torn_bytes_cut.
//   - Corruption in the middle: a frame whose CRC does not match, or whose length is
//     implausible (> max_record_bytes or past the end of the file), is skipped: the scanner
//     looks for the next valid frame (at the declared length first, then byte by byte: a
//     length that fits, a seq that fits the gap, a matching CRC) and counts the records
//     skipped (from the seq gap) in corrupt_records_skipped.
//   - A segment with a bad header (magic or CRC) is still scanned for frames using the
//     first seq in its name; if nothing is readable it is renamed to *.corrupt. An unknown
//     format version (segment or ledger) refuses to open. A segment shorter than its
//     header (a creation cut by a crash) is removed. Unknown files are left alone (noted).
//   - Ledger: the valid slot with the higher generation. Missing or unreadable (both slots
//     bad): every record on disk is replayed (all may be duplicates: redelivered = all).
//     Acked seq beyond the last record on disk: fine (acknowledged records never need to
//     be on disk); the next seq continues after it. Durable seq beyond the data and above
//     the ack position: records that had been fsynced are gone -> DATA_LOSS, refuse to
//     open (the message says how to accept the loss: delete the ledger to replay what
//     is left). Seqs missing between the ack position and the data, or between segments,
//     are noted with their range.
//   - Fully acknowledged segments left by a crash are deleted. The recovered state is
//     written to the ledger before open() returns.
//
// FSYNC POLICIES (what survives a power loss or kernel crash; a process crash loses
// nothing that append() returned, under any policy, since data is written before return):
//   kBatch    fdatasync before append() returns (and the directory after a new segment);
//             the ledger is fdatasync'ed on every ack. A returned append is durable.
//   kInterval data and ledger are fdatasync'ed at most every fsync_interval, checked on
//             append() and by sync_if_due() (call it from a timer); a segment is synced
//             when it is rolled. Up to ~fsync_interval of appends can be lost on power loss.
//   kNever    the OS writes back when it likes. flush() still syncs on request.
// Under every policy the ledger is synced before a segment file is deleted, so deletion
// never leaves a hole that looks like lost data.
//
// THREADS. Internally synchronized: one thread may append while another reads, acks,
// rewinds and drops; several appenders are serialized. fdatasync of appended data runs
// without the state lock (readers and ackers are not blocked by it).
// Destroying a Spool closes its files and releases the lock without syncing: it is
// equivalent to a crash of this process. Call flush() first on a graceful shutdown.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/policies.h"
#include "core/clock.h"
#include "core/status.h"

namespace uc::buffer {

// FsyncPolicy: buffer/policies.h

const char* fsync_policy_name(FsyncPolicy p);

struct SpoolOptions {
  std::string directory;
  std::uint64_t max_bytes = 512ull << 20;      // cap on the sum of segment file sizes
  std::uint64_t segment_bytes = 32ull << 20;   // a segment is rolled before it would exceed this
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{1000};
  std::uint32_t max_record_bytes = 16u << 20;  // larger payloads are refused (INVALID_ARGUMENT)
};

struct SpoolRecord {
  std::uint64_t seq = 0;
  std::string payload;
};

struct RecoveryReport {
  std::uint64_t segments = 0;                 // segment files kept
  std::uint64_t records = 0;                  // records to replay (not acknowledged)
  std::uint64_t bytes = 0;                    // on-disk bytes of the kept segments
  std::uint64_t torn_bytes_cut = 0;           // bytes cut from (or unreadable at) segment tails
  std::uint64_t corrupt_records_skipped = 0;  // records lost to corruption (CRC, length)
  std::uint64_t first_unacked_seq = 0;        // first record to replay (== next_seq if none)
  std::uint64_t next_seq = 0;                 // seq the next append gets
  std::uint64_t redelivered = 0;  // records past the last ack that may already have been delivered once
  std::vector<std::string> notes;  // one sentence per odd thing found, empty when clean
};

class Spool {
 public:
  // Creates the directory, takes an exclusive lock (a second open of the same directory,
  // from this or another process, fails with FAILED_PRECONDITION "spool <dir> is in use by
  // another process"), recovers (see RECOVERY above) and is ready. Errors: the path is not
  // a directory or cannot be created / read (FAILED_PRECONDITION / PERMISSION_DENIED /
  // UNAVAILABLE); unknown format version (FAILED_PRECONDITION); records known durable are
  // missing (DATA_LOSS). Options are checked (INVALID_ARGUMENT).
  static Result<std::unique_ptr<Spool>> open(const SpoolOptions& options, const Clock& clock);

  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const RecoveryReport& recovery() const;

  // Appends the payloads as consecutive records and returns the seq of the first (for an
  // empty batch: next_seq(), nothing written). All or nothing. Errors, each with nothing
  // written: INVALID_ARGUMENT (a payload > max_record_bytes, or a batch that could never
  // fit under max_bytes); RESOURCE_EXHAUSTED when the batch would take bytes() past
  // max_bytes (ack or drop_oldest_segment() to make room); RESOURCE_EXHAUSTED on ENOSPC
  // and UNAVAILABLE on other I/O errors, with the cause: the segment is cut back to its
  // last whole record. Under kBatch the records are durable when this returns ok.
  Result<std::uint64_t> append(const std::vector<std::string_view>& payloads);

  // Replaces the contents of `out` (reusing the capacity of its payload strings) with up to
  // max_records records and max_bytes payload bytes from the read cursor (at least one
  // record when any is unread, however big) and advances the read cursor. Ok with empty `out` when nothing is unread. A record found corrupt here
  // is skipped and counted (corrupt_skipped()). UNAVAILABLE on I/O errors.
  Status read(std::size_t max_records, std::size_t max_bytes, std::vector<SpoolRecord>& out);

  // Moves the read cursor back to the first unacknowledged record (after a failed delivery).
  void rewind();

  // Every seq <= up_to_seq is done. Persists the ledger (fdatasync under kBatch), deletes
  // segments whose records are all acknowledged. Acking below acked_seq() is a no-op;
  // beyond the last appended record is OUT_OF_RANGE; acking past the read cursor moves it.
  // UNAVAILABLE when the ledger cannot be written (the in-memory position still moves).
  Status ack(std::uint64_t up_to_seq);

  // Frees room: discards the oldest segment's unacknowledged records and deletes it;
  // returns how many records were discarded (the caller counts them as dropped). The
  // acknowledgement position moves past them. When the oldest segment is the one being
  // written, it is first closed (the next append starts a new segment). 0 when there is
  // nothing to drop.
  std::uint64_t drop_oldest_segment();

  // kInterval: fdatasync data and ledger if fsync_interval has passed since the last sync.
  void sync_if_due();
  // fdatasync data and ledger now, whatever the policy (graceful shutdown).
  Status flush();

  std::uint64_t bytes() const;            // on-disk bytes of all segments
  std::uint64_t unacked() const;          // records appended (or recovered) and not acked
  std::uint64_t unread() const;           // records not yet returned by read() since the last rewind
  std::uint64_t next_seq() const;         // seq of the next appended record
  std::uint64_t acked_seq() const;        // 0 = none yet (seqs start at 1)
  std::uint64_t durable_seq() const;      // every seq <= it is on stable storage
  std::uint64_t corrupt_skipped() const;  // recovery's count plus records found corrupt by read()
  const SpoolOptions& options() const;

  struct State;  // implementation detail

 private:
  explicit Spool(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace uc::buffer
