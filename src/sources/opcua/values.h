// OPC UA values as the connector's neutral samples: no I/O, no state.
//
// - to_value(): Boolean -> bool, signed integers -> int64, unsigned -> uint64,
//   Float/Double -> double, String/LocalizedText/QualifiedName/NodeId/Guid -> string,
//   DateTime -> ISO 8601 UTC string, ByteString -> bytes, StatusCode -> uint64, arrays and
//   matrices -> a flat Array (row-major; the dimensions go to the sample's metadata).
//   Other types give null.
// - to_sample(): one DataValue of one tag: the value, the StatusCode (ProtocolStatus
//   kOpcUa), the source timestamp (Sample::source_time) and the server timestamp
//   (metadata "opcua_server_time_us"). The tag's TagMeta learns its OPC UA data type from
//   the first non-null value; published samples share the old meta, so it is replaced,
//   never written to.
#pragma once

#include <memory>
#include <string>

#include "core/sample.h"
#include "protocols/opcua/types.h"

namespace uc::sources::opcua {

Value to_value(const uc::opcua::Variant& v);

Sample to_sample(const std::string& address, std::shared_ptr<TagMeta>& meta, uc::opcua::DataValue& value,
                 TimestampUs now);

}  // namespace uc::sources::opcua
