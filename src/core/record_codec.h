// Record encoders: JSON Lines (file sink, stdout, `read`, Zerobus JSON mode) and
// protobuf wire format of proto/record.proto (Zerobus PROTO mode). Pure functions.
#pragma once

#include <string>

#include "core/record.h"

namespace uc {

// Appends one JSON object (no newline) whose keys are exactly the column names.
// Invalid UTF-8 in strings is replaced by U+FFFD so the line is always valid JSON.
void append_record_json(std::string& out, const Record& r);

// Appends the protobuf encoding of unified_connector.v1.OtRecord.
void append_record_proto(std::string& out, const Record& r);

// Appends a JSON string literal (quotes included) with escaping and UTF-8 repair.
void append_json_string(std::string& out, std::string_view s);

}  // namespace uc
