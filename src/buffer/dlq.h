// The dead-letter queue of one target: records a sink rejected for good, each with the
// reason, kept until an operator replays or purges them (SPEC §5).
//
// Format: <directory>/<target>.jsonl, one entry per line:
//   {"time_us": 1795887649676766, "target": "...", "reason": "...",
//    "record": {...the record as the file sink writes it...}, "proto": "<base64 of OtRecord>"}
// "record" is for people and tools; "proto" is what replay decodes, so a replayed record
// is bit-for-bit the rejected one. Appends are fdatasync'ed before add() returns: a
// record is only resolved as dead-lettered once it is durable here.
//
// Thread-safe (one mutex): the target's worker adds, the API lists and replays.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/status.h"

namespace uc::buffer {

struct DlqEntry {
  std::int64_t time_us = 0;
  std::string target;
  std::string reason;
  std::string record_json;  // the "record" object as text
};

class DeadLetterQueue {
 public:
  // Creates the directory if needed; counts the entries already there.
  static Result<std::unique_ptr<DeadLetterQueue>> open(const std::string& directory, const std::string& target);

  Status add(const std::vector<const Record*>& records, const std::vector<std::string>& reasons, std::int64_t now_us);

  std::uint64_t count() const;
  const std::string& path() const { return path_; }

  // Entries [offset, offset + limit) in file order. Lines that do not parse are reported
  // as entries with reason "unreadable DLQ line N" rather than hidden.
  Result<std::vector<DlqEntry>> list(std::size_t offset, std::size_t limit) const;

  // Decodes every entry and hands the records to `sink` (e.g. push into the target's
  // lane); the entries are removed only when sink succeeds, so a failed replay loses
  // nothing (a crash in between may replay them twice: at least once). sink runs
  // without the DLQ's lock held, so it may block on the lane that adds to this DLQ;
  // entries added meanwhile stay. Returns the number of records replayed.
  Result<std::uint64_t> replay(const std::function<Status(std::vector<Record>&&)>& sink);

  // Deletes every entry; returns how many there were.
  Result<std::uint64_t> purge();

 private:
  DeadLetterQueue(std::string path, std::string target) : path_(std::move(path)), target_(std::move(target)) {}
  Result<std::vector<std::string>> read_lines_locked() const;

  std::string path_;
  std::string target_;
  mutable std::mutex mu_;         // the file and count_
  std::mutex replay_mu_;          // one replay or purge at a time
  std::uint64_t count_ = 0;
};

}  // namespace uc::buffer
