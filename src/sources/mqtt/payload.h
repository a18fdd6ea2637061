// Turning a JSON or plain-text MQTT payload into samples, sans-IO (SPEC §4).
//
// JSON shapes, in this order:
// - json.tags given: each tag's JSON pointer is resolved in the document; one sample per
//   tag found, address "<topic>#<tag name>" (a missing pointer is skipped and counted).
// - an array: each element is a point (below); non-object elements are values.
// - an object holding value_field: one point — value, optional timestamp_field
//   (epoch s/ms/us by magnitude, or RFC 3339 text), optional quality_field, optional
//   name_field (address "<topic>#<name>").
// - any other object: each member is a value, address "<topic>#<member>".
// - a scalar: the value of the topic.
// Text payloads: an integer, a decimal number, true/false, or else the text itself.
//
// Limits: payloads over max_payload bytes, nesting deeper than 64 and more than
// max_points points are errors; the topic and string values must be UTF-8.
#pragma once

#include "core/utf8.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

namespace uc::sources::mqtt {

struct JsonTag {
  std::string name;
  std::string pointer;  // RFC 6901, e.g. /sensors/0/temp
};

struct JsonMapping {
  std::string value_field = "value";
  std::string timestamp_field = "timestamp";
  std::string quality_field = "quality";
  std::string name_field = "name";
  std::vector<JsonTag> tags;
  std::size_t max_payload = 1u << 20;
  std::size_t max_points = 10000;
};

// Strict UTF-8 (core/utf8.h).
using ::uc::is_valid_utf8;

// Samples for a JSON payload; an error names what is wrong (invalid JSON, too deep, ...).
Result<SampleBatch> map_json(std::string_view topic, std::string_view payload, const JsonMapping& m,
                             TimestampUs receive_time);
Result<SampleBatch> map_text(std::string_view topic, std::string_view payload, TimestampUs receive_time);

// Timestamp field value → microseconds: numbers by magnitude (< 1e11 s, < 1e14 ms, else
// µs), text as RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)).
std::optional<TimestampUs> parse_timestamp_text(std::string_view text);

}  // namespace uc::sources::mqtt
