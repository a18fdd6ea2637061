#include "normalize/quality.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <utility>

namespace uc::normalize {
namespace {

namespace s = opcua_status;

constexpr std::array<std::pair<std::uint32_t, std::string_view>, 25> kStatusNames = {{
    {s::kGood, "Good"},
    {s::kGoodLocalOverride, "GoodLocalOverride"},
    {s::kUncertain, "Uncertain"},
    {s::kUncertainNoCommunicationLastUsableValue, "UncertainNoCommunicationLastUsableValue"},
    {s::kUncertainLastUsableValue, "UncertainLastUsableValue"},
    {s::kUncertainSubstituteValue, "UncertainSubstituteValue"},
    {s::kUncertainInitialValue, "UncertainInitialValue"},
    {s::kUncertainSensorNotAccurate, "UncertainSensorNotAccurate"},
    {s::kUncertainEngineeringUnitsExceeded, "UncertainEngineeringUnitsExceeded"},
    {s::kUncertainSubNormal, "UncertainSubNormal"},
    {s::kBad, "Bad"},
    {s::kBadUnexpectedError, "BadUnexpectedError"},
    {s::kBadCommunicationError, "BadCommunicationError"},
    {s::kBadTimeout, "BadTimeout"},
    {s::kBadNoCommunication, "BadNoCommunication"},
    {s::kBadWaitingForInitialData, "BadWaitingForInitialData"},
    {s::kBadNodeIdUnknown, "BadNodeIdUnknown"},
    {s::kBadOutOfRange, "BadOutOfRange"},
    {s::kBadNotSupported, "BadNotSupported"},
    {s::kBadConfigurationError, "BadConfigurationError"},
    {s::kBadNotConnected, "BadNotConnected"},
    {s::kBadDeviceFailure, "BadDeviceFailure"},
    {s::kBadSensorFailure, "BadSensorFailure"},
    {s::kBadOutOfService, "BadOutOfService"},
    {s::kBadNoData, "BadNoData"},
}};

std::string hex32(std::uint32_t code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", code);
  return buf;
}

QualityResult make(Quality q, std::uint32_t code, std::string reason) {
  return {q, static_cast<std::int64_t>(code), std::move(reason)};
}

std::string text_or(const std::string& text, std::string_view fallback) {
  return text.empty() ? std::string(fallback) : text;
}

// OPC DA quality byte: QQSSSSLL (quality, substatus, limit).
QualityResult map_da_quality(std::uint32_t byte) {
  const std::uint32_t qq = (byte >> 6) & 0x3;
  const std::uint32_t sub = (byte >> 2) & 0xF;
  const std::string reason = "opc da quality " + std::to_string(byte);
  switch (qq) {
    case 3:
      return make(Quality::kGood, sub == 6 ? s::kGoodLocalOverride : s::kGood, "");
    case 1: {
      std::uint32_t code = s::kUncertain;
      switch (sub) {
        case 1: code = s::kUncertainLastUsableValue; break;
        case 4: code = s::kUncertainSensorNotAccurate; break;
        case 5: code = s::kUncertainEngineeringUnitsExceeded; break;
        case 6: code = s::kUncertainSubNormal; break;
        default: break;
      }
      return make(Quality::kUncertain, code, reason);
    }
    case 0: {
      std::uint32_t code = s::kBad;
      switch (sub) {
        case 1: code = s::kBadConfigurationError; break;
        case 2: code = s::kBadNotConnected; break;
        case 3: code = s::kBadDeviceFailure; break;
        case 4: code = s::kBadSensorFailure; break;
        case 5: code = s::kBadNoCommunication; break;  // last known value, comms lost
        case 6: code = s::kBadNoCommunication; break;
        case 7: code = s::kBadOutOfService; break;
        case 8: code = s::kBadWaitingForInitialData; break;
        default: break;
      }
      return make(Quality::kBad, code, reason);
    }
    default:
      return make(Quality::kBad, s::kBad, reason + " (reserved quality bits)");
  }
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view t) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!t.empty() && blank(t.front())) t.remove_prefix(1);
  while (!t.empty() && blank(t.back())) t.remove_suffix(1);
  return t;
}

bool parse_number(std::string_view t, std::uint64_t* out) {
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    t.remove_prefix(2);
    base = 16;
  }
  if (t.empty()) return false;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), *out, base);
  return ec == std::errc() && ptr == t.data() + t.size();
}

QualityResult map_text_quality(const std::string& text) {
  const std::string_view t = trim(text);
  if (iequals(t, "good") || iequals(t, "ok")) return make(Quality::kGood, s::kGood, "");
  if (iequals(t, "uncertain")) return make(Quality::kUncertain, s::kUncertain, "quality uncertain");
  if (iequals(t, "bad") || iequals(t, "error")) return make(Quality::kBad, s::kBad, "quality " + std::string(t));
  std::uint64_t n = 0;
  if (parse_number(t, &n)) return map_numeric_quality(n);
  return make(Quality::kUncertain, s::kUncertain, "unrecognised quality '" + std::string(t) + "'");
}

}  // namespace

Quality opcua_severity(std::uint32_t code) {
  switch (code >> 30) {
    case 0: return Quality::kGood;
    case 1: return Quality::kUncertain;
    default: return Quality::kBad;
  }
}

std::string_view opcua_status_name(std::uint32_t code) {
  for (const auto& [c, name] : kStatusNames) {
    if (c == code) return name;
  }
  return {};
}

std::string_view modbus_exception_name(std::uint32_t code) {
  switch (code) {
    case 1: return "illegal function";
    case 2: return "illegal data address";
    case 3: return "illegal data value";
    case 4: return "server device failure";
    case 5: return "acknowledge";
    case 6: return "server device busy";
    case 8: return "memory parity error";
    case 10: return "gateway path unavailable";
    case 11: return "gateway target device failed to respond";
    default: return "unknown";
  }
}

QualityResult map_numeric_quality(std::uint64_t code) {
  if (code <= 255) return map_da_quality(static_cast<std::uint32_t>(code));
  if (code > 0xFFFFFFFFULL || code <= 0xFFFF) {
    return make(Quality::kUncertain, s::kUncertain, "unrecognised quality " + std::to_string(code));
  }
  const auto c = static_cast<std::uint32_t>(code);
  const Quality q = opcua_severity(c);
  if (q == Quality::kGood) return make(q, c, "");
  const std::string_view name = opcua_status_name(c);
  return make(q, c, name.empty() ? "opc ua status " + hex32(c) : std::string(name) + " (" + hex32(c) + ")");
}

QualityResult map_quality(const ProtocolStatus& st) {
  using Kind = ProtocolStatus::Kind;
  switch (st.kind) {
    case Kind::kNone:
      return {};
    case Kind::kOpcUa: {
      const Quality q = opcua_severity(st.code);
      if (q == Quality::kGood) return make(q, st.code, "");
      if (!st.text.empty()) return make(q, st.code, st.text);
      const std::string_view name = opcua_status_name(st.code);
      return make(q, st.code,
                  name.empty() ? "opc ua status " + hex32(st.code)
                               : std::string(name) + " (" + hex32(st.code) + ")");
    }
    case Kind::kModbusException: {
      std::uint32_t code = s::kBadDeviceFailure;
      switch (st.code) {
        case 1: code = s::kBadNotSupported; break;
        case 2: code = s::kBadConfigurationError; break;
        case 3: code = s::kBadOutOfRange; break;
        case 10: code = s::kBadNoCommunication; break;
        case 11: code = s::kBadTimeout; break;
        default: break;
      }
      std::string reason = "modbus exception " + std::to_string(st.code) + " (" +
                           std::string(modbus_exception_name(st.code)) + ")";
      if (!st.text.empty()) reason += ": " + st.text;
      return make(Quality::kBad, code, std::move(reason));
    }
    case Kind::kTimeout:
      return make(Quality::kBad, s::kBadTimeout, text_or(st.text, "timeout"));
    case Kind::kCommError:
      return make(Quality::kBad, s::kBadCommunicationError, text_or(st.text, "communication error"));
    case Kind::kSparkplugNull:
      return make(Quality::kBad, s::kBadNoData, text_or(st.text, "sparkplug metric is_null"));
    case Kind::kSparkplugQuality: {
      QualityResult r = map_numeric_quality(st.code);
      if (r.quality != Quality::kGood && !st.text.empty()) r.reason = st.text;
      return r;
    }
    case Kind::kStale:
      return make(Quality::kBad, s::kBadNoCommunication, text_or(st.text, "stale"));
    case Kind::kTextQuality:
      return map_text_quality(st.text);
  }
  return make(Quality::kBad, s::kBadUnexpectedError, "unknown protocol status kind");
}

}  // namespace uc::normalize
