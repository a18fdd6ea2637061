#include "normalize/signal_type.h"

#include <algorithm>
#include <array>
#include <utility>

namespace uc::normalize {
namespace {

using Entry = std::pair<std::string_view, std::string_view>;

// Name tokens (lowercase, whole words) → signal type.
constexpr std::array kNameTokens = {
    Entry{"temperature", "temperature"}, Entry{"temp", "temperature"}, Entry{"tmp", "temperature"},
    Entry{"thermocouple", "temperature"}, Entry{"rtd", "temperature"},
    Entry{"pressure", "pressure"}, Entry{"pres", "pressure"}, Entry{"vacuum", "pressure"},
    Entry{"psi", "pressure"},
    Entry{"flow", "flow"}, Entry{"flowrate", "flow"},
    Entry{"level", "level"}, Entry{"lvl", "level"},
    Entry{"speed", "speed"}, Entry{"spd", "speed"}, Entry{"rpm", "speed"}, Entry{"velocity", "speed"},
    Entry{"power", "power"}, Entry{"pwr", "power"}, Entry{"kw", "power"}, Entry{"watts", "power"},
    Entry{"energy", "energy"}, Entry{"kwh", "energy"},
    Entry{"vibration", "vibration"}, Entry{"vib", "vibration"}, Entry{"vibr", "vibration"},
    Entry{"current", "current"}, Entry{"curr", "current"}, Entry{"amps", "current"},
    Entry{"amp", "current"}, Entry{"amperage", "current"},
    Entry{"voltage", "voltage"}, Entry{"volt", "voltage"}, Entry{"volts", "voltage"},
    Entry{"frequency", "frequency"}, Entry{"freq", "frequency"}, Entry{"hz", "frequency"},
    Entry{"humidity", "humidity"}, Entry{"humid", "humidity"}, Entry{"rh", "humidity"},
    Entry{"position", "position"}, Entry{"pos", "position"}, Entry{"angle", "position"},
    Entry{"torque", "torque"}, Entry{"trq", "torque"},
    Entry{"weight", "weight"}, Entry{"mass", "weight"},
    Entry{"status", "status"}, Entry{"state", "status"}, Entry{"running", "status"},
    Entry{"mode", "status"}, Entry{"ready", "status"}, Entry{"stopped", "status"},
    Entry{"count", "count"}, Entry{"counter", "count"}, Entry{"cnt", "count"}, Entry{"qty", "count"},
    Entry{"quantity", "count"}, Entry{"pieces", "count"},
    Entry{"alarm", "alarm"}, Entry{"alm", "alarm"}, Entry{"fault", "alarm"}, Entry{"trip", "alarm"},
    Entry{"warning", "alarm"}, Entry{"alert", "alarm"}, Entry{"error", "alarm"},
    Entry{"setpoint", "setpoint"}, Entry{"sp", "setpoint"}, Entry{"sv", "setpoint"},
    Entry{"target", "setpoint"},
    Entry{"density", "density"}, Entry{"ph", "ph"}, Entry{"conductivity", "conductivity"},
};

// Units, exact spelling → signal type.
constexpr std::array kUnits = {
    Entry{"°C", "temperature"}, Entry{"degC", "temperature"}, Entry{"C", "temperature"},
    Entry{"℃", "temperature"}, Entry{"K", "temperature"}, Entry{"°F", "temperature"},
    Entry{"degF", "temperature"}, Entry{"F", "temperature"}, Entry{"℉", "temperature"},
    Entry{"celsius", "temperature"}, Entry{"fahrenheit", "temperature"}, Entry{"kelvin", "temperature"},
    Entry{"bar", "pressure"}, Entry{"barg", "pressure"}, Entry{"mbar", "pressure"},
    Entry{"psi", "pressure"}, Entry{"psig", "pressure"}, Entry{"psia", "pressure"},
    Entry{"Pa", "pressure"}, Entry{"hPa", "pressure"}, Entry{"kPa", "pressure"},
    Entry{"MPa", "pressure"}, Entry{"mmHg", "pressure"}, Entry{"inH2O", "pressure"},
    Entry{"atm", "pressure"},
    Entry{"m3/h", "flow"}, Entry{"m³/h", "flow"}, Entry{"Nm3/h", "flow"}, Entry{"m3/s", "flow"},
    Entry{"l/min", "flow"}, Entry{"L/min", "flow"}, Entry{"l/s", "flow"}, Entry{"L/s", "flow"},
    Entry{"l/h", "flow"}, Entry{"L/h", "flow"}, Entry{"lpm", "flow"}, Entry{"gpm", "flow"},
    Entry{"cfm", "flow"}, Entry{"kg/h", "flow"}, Entry{"t/h", "flow"}, Entry{"kg/s", "flow"},
    Entry{"rpm", "speed"}, Entry{"1/min", "speed"}, Entry{"m/s", "speed"}, Entry{"m/min", "speed"},
    Entry{"km/h", "speed"},
    Entry{"W", "power"}, Entry{"kW", "power"}, Entry{"MW", "power"}, Entry{"hp", "power"},
    Entry{"kVA", "power"}, Entry{"VA", "power"}, Entry{"kvar", "power"}, Entry{"var", "power"},
    Entry{"Wh", "energy"}, Entry{"kWh", "energy"}, Entry{"MWh", "energy"}, Entry{"J", "energy"},
    Entry{"kJ", "energy"}, Entry{"MJ", "energy"}, Entry{"GJ", "energy"},
    Entry{"mm/s", "vibration"}, Entry{"in/s", "vibration"}, Entry{"um", "vibration"},
    Entry{"µm", "vibration"},
    Entry{"A", "current"}, Entry{"mA", "current"}, Entry{"kA", "current"},
    Entry{"V", "voltage"}, Entry{"mV", "voltage"}, Entry{"kV", "voltage"},
    Entry{"Hz", "frequency"}, Entry{"kHz", "frequency"},
    Entry{"%RH", "humidity"}, Entry{"% RH", "humidity"}, Entry{"RH", "humidity"},
    Entry{"Nm", "torque"}, Entry{"N·m", "torque"}, Entry{"N.m", "torque"}, Entry{"kNm", "torque"},
    Entry{"kg", "weight"}, Entry{"lb", "weight"}, Entry{"lbs", "weight"}, Entry{"tonne", "weight"},
    Entry{"pH", "ph"},
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_upper(c) || is_lower(c) || is_digit(c); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view lookup_token(std::string_view token) {
  for (const auto& [word, type] : kNameTokens) {
    if (word == token) return type;
  }
  return {};
}

}  // namespace

std::vector<std::string> split_name_tokens(std::string_view name) {
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) tokens.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!is_alnum(c)) {
      flush();
      continue;
    }
    if (!cur.empty()) {
      const char prev = name[i - 1];
      const bool next_lower = i + 1 < name.size() && is_lower(name[i + 1]);
      const bool boundary = (is_upper(c) && (is_lower(prev) || is_digit(prev))) ||
                            (is_upper(c) && is_upper(prev) && next_lower) ||
                            (is_digit(c) != is_digit(prev));
      if (boundary) flush();
    }
    cur.push_back(lower(c));
  }
  flush();
  return tokens;
}

std::string_view signal_type_from_unit(std::string_view unit) {
  unit = trim(unit);
  if (unit.empty()) return {};
  for (const auto& [u, type] : kUnits) {
    if (u == unit) return type;
  }
  if (unit.size() > 1) {
    for (const auto& [u, type] : kUnits) {
      if (u.size() > 1 && iequals(u, unit)) return type;
    }
  }
  return {};
}

std::string_view signal_type_from_name(std::string_view name) {
  const std::vector<std::string> tokens = split_name_tokens(name);
  for (std::size_t i = tokens.size(); i-- > 0;) {
    if (tokens[i] == "point" && i > 0 && tokens[i - 1] == "set") return "setpoint";
    const std::string_view type = lookup_token(tokens[i]);
    if (!type.empty()) return type;
  }
  return {};
}

std::string infer_signal_type(std::string_view name, std::string_view unit) {
  std::string_view type = signal_type_from_name(name);
  if (type.empty()) type = signal_type_from_unit(unit);
  if (type.empty()) type = "value";
  return std::string(type);
}

}  // namespace uc::normalize
