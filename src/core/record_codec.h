// Record encoders: JSON Lines (file sink, stdout, `read`, Zerobus JSON mode) and
// protobuf wire format of proto/record.proto (Zerobus PROTO mode). Pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/record.h"
#include "core/status.h"

namespace uc {

// How records travel to a sink that can take either (zerobus.record_format).
enum class RecordFormat : std::uint8_t { kProto, kJson };

// Appends one JSON object (no newline) whose keys are exactly the column names.
// Invalid UTF-8 in strings is replaced by U+FFFD so the line is always valid JSON.
void append_record_json(std::string& out, const Record& r);

// Appends the protobuf encoding of unified_connector.v1.OtRecord.
void append_record_proto(std::string& out, const Record& r);

// Encodes each record as its own protobuf message into `buffer` and points `views` at
// them (one per record, in order) — the payloads of a spool append.
void encode_proto_payloads(const std::vector<Record>& records, std::string& buffer,
                           std::vector<std::string_view>& views);

// Decodes the protobuf encoding of OtRecord (what append_record_proto writes, or any
// valid encoding of the message) back into a Record. Untrusted input: every length is
// checked, unknown fields are skipped, groups and truncation are errors. Records of
// one tag share one interned TagInfo; all metadata entries land in Record::metadata.
// decode() replaces every field of `out` but reuses its string buffers, so decoding into
// recycled records (as the spool's delivery loop does) allocates only for new tags.
class RecordDecoder {
 public:
  explicit RecordDecoder(std::size_t max_cached_tags = 100'000) : max_cached_(max_cached_tags) {}
  Status decode(std::string_view wire, Record& out);

 private:
  // The 11 tag strings of fields 3..13 in field order, then unit (field 20).
  static constexpr std::size_t kTagFields = 12;
  std::size_t max_cached_;
  std::unordered_map<std::string, std::shared_ptr<const TagInfo>> tags_;
  std::string id_;                                                      // reused key buffer
  std::vector<std::pair<std::string_view, std::string_view>> entries_;  // reused: metadata views
};

// Appends a JSON string literal (quotes included) with escaping and UTF-8 repair.
void append_json_string(std::string& out, std::string_view s);

}  // namespace uc
