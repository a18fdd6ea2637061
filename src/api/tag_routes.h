// The latest value per tag path (SPEC §9, issue 14), read from the pipeline's LatestValues
// table (pipeline/latest_values.h). A tag's view:
//   {"path", "source", "value": number|bool|string|array|null as the record's value_type,
//    "value_type", "quality": "good"|"uncertain"|"bad", "status_code", "unit" (when the
//    record has one), "source_time", "receive_time" (RFC 3339 UTC, ms), "source_time_us",
//    "receive_time_us" (µs since the epoch), "age_ms" (now - receive time), "updates"}
//
//   GET /api/tags?source=S&prefix=P&glob=G&offset=N&limit=M
//       {"total": matching tags, "offset", "limit", "tags": [view, ...] sorted by path,
//        "capacity": slots in the table, "untracked_updates": values of paths refused
//        because the table was full}. prefix is plain text; glob is normalize/glob.h
//        ('*' and '?' within a segment, "**" any number of segments); limit 0..1000
//        (default 100), offset 0..10^9 (default 0).
//   GET /api/tags/{path...}
//       one view; the tag path is the rest of the URL, its '/' as is or as %2F
//       (router.h: the request path is decoded before routing, so both arrive as '/').
//
// Errors (http.h shape): 400 "invalid_query" (a malformed or out-of-range number, a bad
// glob, a prefix over 1024 bytes, an unknown parameter: details.parameter names it),
// 404 "not_found" (no value for that path).
// Handlers run on the server's workers; the table and clock must outlive the server.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "core/clock.h"
#include "pipeline/latest_values.h"

namespace uc::api {

Status add_tag_routes(ApiServer& server, const pipeline::LatestValues& table, const Clock& clock);

// One tag's view as the routes answer it, at now_us.
nlohmann::json tag_view(const pipeline::TagValue& v, TimestampUs now_us);

}  // namespace uc::api
