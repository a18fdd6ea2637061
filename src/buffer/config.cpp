#include "buffer/config.h"

#include <algorithm>

namespace uc::buffer {

SpoolOptions spool_options_from(const config::BackpressureConfig::DiskSpool& spool, std::string directory) {
  SpoolOptions so;
  so.directory = std::move(directory);
  so.max_bytes = static_cast<std::uint64_t>(spool.max_size_mb) * 1024 * 1024;
  so.segment_bytes = std::min<std::uint64_t>(static_cast<std::uint64_t>(spool.segment_mb) * 1024 * 1024,
                                             std::max<std::uint64_t>(so.max_bytes / 4, 64 * 1024));
  so.fsync = spool.fsync;
  so.fsync_interval = std::chrono::milliseconds(spool.fsync_interval_ms);
  return so;
}

}  // namespace uc::buffer
