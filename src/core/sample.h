// A sample is what a protocol client produced, before normalization (SPEC §2).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/value.h"

namespace uc {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// How the protocol reported the state of a value; the normalizer maps it to a Quality.
struct ProtocolStatus {
  enum class Kind : std::uint8_t {
    kNone,              // protocol has no status: good
    kOpcUa,             // code = 32-bit OPC UA StatusCode
    kModbusException,   // code = Modbus exception code (1..255)
    kTimeout,           // no answer in time
    kCommError,         // connection lost, malformed answer, ...
    kSparkplugNull,     // metric is_null = true
    kSparkplugQuality,  // code = Sparkplug/Ignition "Quality" property (OPC DA style: 192 good)
    kStale,             // NDEATH/DDEATH or source stopped: last value no longer current
    kTextQuality,       // text = quality field of a JSON payload ("good", "bad", "uncertain", or a number)
  };
  Kind kind = Kind::kNone;
  std::uint32_t code = 0;
  std::string text;  // cause, for bad/uncertain values

  static ProtocolStatus none() { return {}; }
};

// Static facts about one tag, built once by the source and shared by its samples.
struct TagMeta {
  std::string tag_name;     // configured name; empty → derived from the address
  std::string signal_type;  // configured; empty → inferred from name and unit
  std::string unit;
  std::string data_type;    // the protocol's own type name (Float, int32, DataSet, ...)
  std::string description;
  std::string name_path;    // text the normalization rules match (browse path, topic, register name)
  std::optional<double> eng_low;
  std::optional<double> eng_high;
  // Context from per-tag configuration; empty fields fall back to the source, then defaults.
  std::string site, area, line, equipment;
  KeyValues metadata;  // static metadata carried into every record of this tag
};

struct Sample {
  std::string address;  // OPC UA NodeId; MQTT topic [+ "#" + metric]; Modbus "unit/table/address"
  std::shared_ptr<const TagMeta> meta;  // may be null
  Value value;
  std::optional<TimestampUs> source_time;
  TimestampUs receive_time = 0;
  ProtocolStatus status;
  KeyValues metadata;  // per-sample metadata (e.g. sequence numbers)
};

using SampleBatch = std::vector<Sample>;

}  // namespace uc
