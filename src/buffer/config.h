// The disk spool's options from `backpressure.disk_spool` (no I/O).
#pragma once

#include <string>

#include "buffer/spool.h"
#include "config/config.h"

namespace uc::buffer {

// The options of one spool kept in `directory`. A segment is at most a quarter of the
// spool (and at least 64 KiB), so a small spool still rolls and frees space.
SpoolOptions spool_options_from(const config::BackpressureConfig::DiskSpool& spool, std::string directory);

}  // namespace uc::buffer
