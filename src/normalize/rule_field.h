// What a normalization rule's pattern is matched against. Its own header (no link
// dependency) so that config/ parses `normalization.rules[].<field>` straight into it.
#pragma once

#include <cstdint>

namespace uc::normalize {

enum class RuleField : std::uint8_t {
  kAddress,   // Sample::address (MQTT topic [+ "#" + metric], NodeId, Modbus address); YAML `topic` or `address`
  kNamePath,  // TagMeta::name_path (OPC UA browse path, register name); no meta → no match; YAML `browse_path` or `name`
};

}  // namespace uc::normalize
