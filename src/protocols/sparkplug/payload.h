// Sparkplug B payloads (proto/sparkplug_b.proto), sans-IO: a defensive hand-written
// protobuf decoder, the datatype → Value conversion, and an encoder for the simulator.
//
// The decoder reads only the fields a host needs (payload timestamp/seq/uuid/metrics;
// metric name/alias/timestamp/datatype/flags/value; the "Quality" property; DataSets)
// and skips the rest after checking its length. Every length is checked before it is
// read; a payload with more than max_metrics metrics, an array with more than
// max_array_items items or a DataSet with more than max_dataset_cells cells is an error.
// Arrays in bytes_value are little-endian (protocols.md §5.4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/value.h"

namespace uc::protocols::sparkplug {

enum DataType : std::uint32_t {
  kUnknown = 0, kInt8 = 1, kInt16 = 2, kInt32 = 3, kInt64 = 4, kUInt8 = 5, kUInt16 = 6, kUInt32 = 7, kUInt64 = 8,
  kFloat = 9, kDouble = 10, kBoolean = 11, kString = 12, kDateTime = 13, kText = 14, kUUID = 15, kDataSet = 16,
  kBytes = 17, kFile = 18, kTemplate = 19, kPropertySet = 20, kPropertySetList = 21, kInt8Array = 22,
  kInt16Array = 23, kInt32Array = 24, kInt64Array = 25, kUInt8Array = 26, kUInt16Array = 27, kUInt32Array = 28,
  kUInt64Array = 29, kFloatArray = 30, kDoubleArray = 31, kBooleanArray = 32, kStringArray = 33,
  kDateTimeArray = 34,
};

// "Int8" ... "DateTimeArray"; "Unknown(N)" outside the enum.
std::string datatype_name(std::uint32_t datatype);

struct Limits {
  std::size_t max_metrics = 100000;
  std::size_t max_array_items = 1u << 20;
  std::size_t max_dataset_cells = 1u << 20;
};

// Which oneof field of Metric carried the value.
enum class ValueField : std::uint8_t { kNone, kInt, kLong, kFloat, kDouble, kBoolean, kString, kBytes, kDataSet, kTemplate, kExtension };

struct DataSetData {
  std::uint64_t num_of_columns = 0;
  std::vector<std::string> columns;
  std::vector<std::uint32_t> types;
  std::vector<std::vector<Scalar>> rows;  // null cells are monostate
};

struct Metric {
  std::optional<std::string> name;
  std::optional<std::uint64_t> alias;
  std::optional<std::uint64_t> timestamp;  // ms since epoch
  std::optional<std::uint32_t> datatype;
  bool is_historical = false;
  bool is_transient = false;
  bool is_null = false;
  std::optional<std::int64_t> quality;  // the "Quality" property, when present
  ValueField field = ValueField::kNone;
  std::uint64_t int_bits = 0;  // int_value (uint32) or long_value (uint64)
  float float_value = 0;
  double double_value = 0;
  bool bool_value = false;
  std::string bytes;  // string_value or bytes_value
  DataSetData dataset;
};

struct Payload {
  std::optional<std::uint64_t> timestamp;
  std::vector<Metric> metrics;
  std::optional<std::uint64_t> seq;
  std::optional<std::string> uuid;
};

Result<Payload> decode_payload(const std::uint8_t* data, std::size_t size, const Limits& limits = {});

// The metric's value as the given datatype (the metric's own, or the one its alias was
// born with). Null metrics give monostate. A value field that does not fit the datatype,
// an integer out of its range, a malformed array or a non-UTF-8 string is an error.
// DataSets become JSON text: {"columns":[..],"types":[..],"rows":[[..],..]}.
Result<Value> metric_value(const Metric& m, std::uint32_t datatype, const Limits& limits = {});

// Encoder (simulator, tests): the value goes in the field the datatype calls for
// (UInt32 in long_value, as Tahu does; arrays little-endian in bytes_value).
struct OutMetric {
  std::optional<std::string> name;
  std::optional<std::uint64_t> alias;
  std::optional<std::uint64_t> timestamp;
  std::optional<std::uint32_t> datatype;  // written when set (births)
  std::uint32_t value_type = kUnknown;    // how to encode value (the metric's datatype)
  Value value;                            // monostate → is_null
};

struct OutPayload {
  std::optional<std::uint64_t> timestamp;
  std::vector<OutMetric> metrics;
  std::optional<std::uint64_t> seq;
};

std::vector<std::uint8_t> encode_payload(const OutPayload& p);

}  // namespace uc::protocols::sparkplug
