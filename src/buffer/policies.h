// The buffer's policies, in a header of their own (no link dependency) so that config/
// parses `backpressure.drop_policy` and `backpressure.disk_spool.fsync` straight into them.
#pragma once

#include <cstdint>

namespace uc::buffer {

// What a full queue does with one more record: block the producer (backpressure), evict
// the oldest queued records, or refuse the incoming ones. Drops are counted by reason.
enum class DropPolicy : std::uint8_t { kBlock, kDropOldest, kDropNewest };

// When the spool syncs to disk: after every batch, every fsync_interval, or never (the
// OS decides; a power loss may lose what the page cache held).
enum class FsyncPolicy : std::uint8_t { kBatch, kInterval, kNever };

}  // namespace uc::buffer
