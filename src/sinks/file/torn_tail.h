// Repair of JSON Lines files that a killed writer left with half a line at the end.
//
// A `kill -9` (or a crash) in the middle of the file sink's write() leaves the bytes
// written so far: whole lines, then part of one, without its '\n'. Those records were
// never reported delivered, so the buffer still holds them (the disk spool replays them
// after a restart) and the part is only garbage for a reader. cut_torn_tail() removes
// everything after the last '\n' of a file; every whole line stays, byte for byte.
//
// Blocking file I/O on the caller's thread (the sink's worker, before it opens a file).
// Errors are values: a file that cannot be opened, read or truncated is reported and
// left as it is; the other files of a directory are still repaired.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace uc::sinks::file {

// Cuts the file at path after its last '\n' (to 0 bytes when it has none) and syncs it.
// Returns the number of bytes cut: 0 when the file is empty or ends with '\n'. Does not
// follow a symbolic link (ELOOP is an error).
Result<std::uint64_t> cut_torn_tail(const std::string& path);

struct TailRepair {
  std::uint64_t files_cut = 0;    // files that ended in a torn line
  std::uint64_t bytes_cut = 0;    // bytes removed from them in all
  std::vector<Status> failures;   // files that could not be checked or cut (path in the message)
};

// cut_torn_tail() on every regular file of dir whose name is `<prefix>*<suffix>`. A
// directory that does not exist has nothing to repair; one that cannot be listed is a
// failure.
TailRepair cut_torn_tails(const std::string& dir, const std::string& prefix, const std::string& suffix);

}  // namespace uc::sinks::file
