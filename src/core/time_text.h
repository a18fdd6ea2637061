// Timestamps as text for people and JSON APIs. Pure, thread-safe.
#pragma once

#include <string>

#include "core/clock.h"

namespace uc {

// RFC 3339 UTC with milliseconds, "2024-05-01T10:00:00.123Z", for µs since the epoch;
// "" for 0 or less (never).
std::string utc_text(TimestampUs us);

}  // namespace uc
