// Protocol status → record quality and OPC UA-space status code (SPEC §3).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/record.h"
#include "core/sample.h"

namespace uc::normalize {

// OPC UA StatusCodes used by the mapping (values from the official StatusCode.csv).
namespace opcua_status {
inline constexpr std::uint32_t kGood = 0x00000000;
inline constexpr std::uint32_t kGoodLocalOverride = 0x00960000;
inline constexpr std::uint32_t kUncertain = 0x40000000;
inline constexpr std::uint32_t kUncertainNoCommunicationLastUsableValue = 0x408F0000;
inline constexpr std::uint32_t kUncertainLastUsableValue = 0x40900000;
inline constexpr std::uint32_t kUncertainSubstituteValue = 0x40910000;
inline constexpr std::uint32_t kUncertainInitialValue = 0x40920000;
inline constexpr std::uint32_t kUncertainSensorNotAccurate = 0x40930000;
inline constexpr std::uint32_t kUncertainEngineeringUnitsExceeded = 0x40940000;
inline constexpr std::uint32_t kUncertainSubNormal = 0x40950000;
inline constexpr std::uint32_t kBad = 0x80000000;
inline constexpr std::uint32_t kBadUnexpectedError = 0x80010000;
inline constexpr std::uint32_t kBadCommunicationError = 0x80050000;
inline constexpr std::uint32_t kBadTimeout = 0x800A0000;
inline constexpr std::uint32_t kBadNoCommunication = 0x80310000;
inline constexpr std::uint32_t kBadWaitingForInitialData = 0x80320000;
inline constexpr std::uint32_t kBadNodeIdUnknown = 0x80340000;
inline constexpr std::uint32_t kBadOutOfRange = 0x803C0000;
inline constexpr std::uint32_t kBadNotSupported = 0x803D0000;
inline constexpr std::uint32_t kBadConfigurationError = 0x80890000;
inline constexpr std::uint32_t kBadNotConnected = 0x808A0000;
inline constexpr std::uint32_t kBadDeviceFailure = 0x808B0000;
inline constexpr std::uint32_t kBadSensorFailure = 0x808C0000;
inline constexpr std::uint32_t kBadOutOfService = 0x808D0000;
inline constexpr std::uint32_t kBadNoData = 0x809B0000;
}  // namespace opcua_status

struct QualityResult {
  Quality quality = Quality::kGood;
  std::int64_t status_code = 0;  // OPC UA StatusCode as an unsigned 32-bit value
  std::string reason;            // empty when good; otherwise why (goes to metadata quality_reason)
};

// Quality from the two severity bits of an OPC UA StatusCode: 00 good, 01 uncertain,
// 10 and 11 bad.
Quality opcua_severity(std::uint32_t code);

// Name of a well-known OPC UA StatusCode ("BadTimeout"), or "" for codes not in the table.
std::string_view opcua_status_name(std::uint32_t code);

// Standard name of a Modbus exception code ("illegal data address"), or "unknown".
std::string_view modbus_exception_name(std::uint32_t code);

// Mapping, per ProtocolStatus::Kind:
//  kNone            → good, 0.
//  kOpcUa           → severity bits; status_code = the raw code; reason = text, else the code's
//                     name and hex value.
//  kModbusException → bad; reason "modbus exception N (name)"; code 1 → BadNotSupported,
//                     2 → BadConfigurationError, 3 → BadOutOfRange, 10 → BadNoCommunication,
//                     11 → BadTimeout, everything else (4, 5, 6, 8, unknown) → BadDeviceFailure.
//  kTimeout         → bad, BadTimeout.          kCommError → bad, BadCommunicationError.
//  kSparkplugNull   → bad, BadNoData.           kStale     → bad, BadNoCommunication.
//  kSparkplugQuality→ numeric quality (below).
//  kTextQuality     → "good"/"ok" → good, "uncertain" → uncertain, "bad"/"error" → bad
//                     (case-insensitive, surrounding blanks ignored); a decimal or 0x-hex
//                     number → numeric quality; anything else → uncertain, Uncertain,
//                     reason "unrecognised quality '<text>'".
// Numeric quality: 0..255 is an OPC DA quality byte (bits 7-6: 11 good, 01 uncertain,
// 00 bad, 10 reserved → bad), with the DA substatus mapped to the matching OPC UA code
// (192 → Good, 216 → GoodLocalOverride, 64 → Uncertain, 68 → UncertainLastUsableValue,
// 0 → Bad, 8 → BadNotConnected, 24 → BadNoCommunication, ...). Numbers above 255 are OPC UA
// StatusCodes (severity bits, raw code), except 256..65535: no real StatusCode is Good with
// only info bits set, and Ignition's legacy codes (e.g. 500) live there, so these are
// uncertain "unrecognised quality N" rather than silently good.
// Reasons: the status's text when set, else a fixed description.
QualityResult map_quality(const ProtocolStatus& status);

// The numeric-quality rule above, on its own.
QualityResult map_numeric_quality(std::uint64_t code);

}  // namespace uc::normalize
