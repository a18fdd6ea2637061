// A record is a normalized sample: one schema for every protocol (SPEC §2).
// proto/record.proto is the schema's single source; the field order here follows it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/sample.h"
#include "core/value.h"

namespace uc {

enum class Quality : std::uint8_t { kGood, kUncertain, kBad };
const char* quality_name(Quality q);

// The part of a record that is the same for every value of a tag. The normalizer
// interns one per tag, so records share it instead of copying a dozen strings.
struct TagInfo {
  std::string source_name;
  std::string protocol;
  std::string endpoint;
  std::string tag_path;
  std::string tag_name;
  std::string address;
  std::string site;
  std::string area;
  std::string line;
  std::string equipment;
  std::string signal_type;
  std::string unit;
  KeyValues metadata;
};

struct Record {
  TimestampUs event_time = 0;   // source time, falling back to receive time
  TimestampUs ingest_time = 0;  // when the connector received the value
  std::shared_ptr<const TagInfo> tag;
  ValueKind value_type = ValueKind::kNull;
  std::optional<double> value_num;  // null when not numeric
  std::string value_str;            // text form, always set ("" for null)
  std::optional<bool> value_bool;
  Quality quality = Quality::kGood;
  std::int64_t status_code = 0;
  KeyValues metadata;  // per-record metadata, appended to tag->metadata

  // Estimate of the encoded size, for byte-based batching.
  std::size_t approx_bytes() const;
};

}  // namespace uc
