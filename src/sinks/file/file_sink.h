// The file sink: JSON Lines, one record per line, keys exactly the record columns,
// under <directory>/<target>/records-<UTC start time>-<n>.jsonl.
//
// A batch is delivered once it is written in full to the file (in the OS page cache:
// it survives a crash of the connector; with fsync=true it is also synced to disk
// before the batch is acknowledged). A failed write is cut back to the last whole
// line and answered with a retry, so files never hold half a record. A kill in the
// middle of a write can still leave one (the process is gone before it can cut back):
// before it opens its first file, the sink cuts every records-*.jsonl of its directory
// after its last '\n' (torn_tail.h). The records of that line were never reported
// delivered, so the buffer writes them again (the disk spool replays them after the
// restart): no whole line is removed and no record is lost.
// Rotation: a new file when the current one would exceed rotate_bytes or is older
// than rotate_interval. A record whose JSON line is longer than max_record_bytes is
// rejected for good (line-oriented consumers have limits); its batch-mates are written.
// Only the target's worker thread calls write().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/clock.h"
#include "pipeline/sink.h"

namespace uc::sinks::file {

struct Options {
  std::string directory = "./data/records";
  std::string target;
  std::uint64_t rotate_bytes = 64ull * 1024 * 1024;  // 0 = never by size
  std::chrono::seconds rotate_interval{3600};        // 0 = never by time
  bool fsync = false;
  std::uint64_t max_record_bytes = 1024 * 1024;  // longer JSON lines are rejected (→ DLQ)
};

class FileSink final : public pipeline::Sink {
 public:
  FileSink(Options options, const Clock& clock);
  ~FileSink() override;

  const std::string& name() const override { return name_; }
  Status start() override;
  pipeline::WriteResult write(const std::vector<Record>& batch) override;
  void stop() override;
  std::string storage_path() const override { return dir_; }

  const std::string& current_path() const { return path_; }
  std::uint64_t files_opened() const { return files_opened_; }

 private:
  Status open_new_file();
  void close_file();
  // Cuts the torn last lines of the files in dir_ (once per start, and again after a
  // cut-back in write() failed).
  void cut_torn_lines();

  Options options_;
  const Clock& clock_;
  std::string name_ = "file";
  std::string dir_;
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::int64_t opened_at_us_ = 0;
  std::uint64_t files_opened_ = 0;
  bool tails_checked_ = false;
  std::string buffer_;
};

}  // namespace uc::sinks::file
