// Signal-type inference from a tag's name and unit (SPEC §3).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace uc::normalize {

// Splits a name into lowercase word tokens: on every character that is not an ASCII letter
// or digit ('_', '-', '.', '/', ' ', ...), at lower→upper camelCase boundaries ("mixerTemp"),
// at the end of an acronym ("PLCStatus" → plc, status) and between letters and digits
// ("temp1" → temp, 1).
std::vector<std::string> split_name_tokens(std::string_view name);

// The signal type a unit implies ("degC" → temperature, "kWh" → energy), or "" when the unit
// is unknown or ambiguous ("%", "m", "mm"). Exact spelling is tried first, then a
// case-insensitive match for units longer than one character (single letters such as
// K, F, C, A, V, W are case-sensitive: "k" or "a" mean nothing).
std::string_view signal_type_from_unit(std::string_view unit);

// The signal type a name implies, or "" when no token is recognised. Tokens are matched
// whole ("temp" matches in "mixer_temp" but nothing matches in "temples"), scanning from the
// last token to the first: the first recognised token wins, because the last word of a tag
// name is usually the head noun ("temp_alarm" → alarm, "pressure_sp" → setpoint,
// "current_temp" → temperature). The word pair "set point" counts as setpoint.
std::string_view signal_type_from_name(std::string_view name);

// The name wins over the unit: names carry roles a unit cannot ("temp_setpoint" in °C is a
// setpoint, "high_temp_alarm" an alarm). The unit decides when no name token is recognised
// ("pv1" in bar → pressure). Neither → "value".
std::string infer_signal_type(std::string_view name, std::string_view unit);

}  // namespace uc::normalize
