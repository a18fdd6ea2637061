#include "normalize/signal_type.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uc::normalize {
namespace {

struct InferCase {
  std::string name;
  std::string unit;
  std::string want;
};

class InferTable : public ::testing::TestWithParam<InferCase> {};

TEST_P(InferTable, Infers) {
  const auto& c = GetParam();
  EXPECT_EQ(infer_signal_type(c.name, c.unit), c.want) << "name \"" << c.name << "\" unit \"" << c.unit << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Names, InferTable,
    ::testing::Values(
        InferCase{"mixer_temp", "", "temperature"},
        InferCase{"MixerTemperature", "", "temperature"},
        InferCase{"reactor.temp1", "", "temperature"},
        InferCase{"current_temp", "", "temperature"},      // last recognised token wins
        InferCase{"temples", "", "value"},                 // whole tokens only
        InferCase{"steam_pressure", "", "pressure"},
        InferCase{"inlet-press", "", "value"},              // "press" is a machine, not pressure
        InferCase{"water_flow", "", "flow"},
        InferCase{"FlowRate", "", "flow"},
        InferCase{"tank_level", "m", "level"},
        InferCase{"TankLvl", "", "level"},
        InferCase{"conveyor_speed", "", "speed"},
        InferCase{"Line1.Mixer.Speed", "", "speed"},
        InferCase{"motor_rpm", "", "speed"},
        InferCase{"active_power", "", "power"},
        InferCase{"total_energy", "", "energy"},
        InferCase{"bearing_vibration", "", "vibration"},
        InferCase{"motor_current", "", "current"},
        InferCase{"supply voltage", "", "voltage"},
        InferCase{"drive_freq", "", "frequency"},
        InferCase{"room_humidity", "", "humidity"},
        InferCase{"valve_position", "", "position"},
        InferCase{"spindle_torque", "", "torque"},
        InferCase{"batch_weight", "", "weight"},
        InferCase{"pump_status", "", "status"},
        InferCase{"statuses", "", "value"},
        InferCase{"pump_running", "", "status"},
        InferCase{"PLCState", "", "status"},
        InferCase{"parts_count", "", "count"},
        InferCase{"goodPartsCounter", "", "count"},
        InferCase{"high_temp_alarm", "", "alarm"},
        InferCase{"motor_fault", "", "alarm"},
        InferCase{"temp_setpoint", "degC", "setpoint"},
        InferCase{"TempSetPoint", "", "setpoint"},
        InferCase{"pressure_sp", "bar", "setpoint"},
        InferCase{"set_point", "", "setpoint"},
        InferCase{"", "", "value"},
        InferCase{"x", "", "value"},
        InferCase{"40001", "", "value"},
        InferCase{"TEMP", "", "temperature"}));

INSTANTIATE_TEST_SUITE_P(
    Units, InferTable,
    ::testing::Values(
        InferCase{"pv1", "°C", "temperature"},
        InferCase{"pv1", "degC", "temperature"},
        InferCase{"pv1", "K", "temperature"},
        InferCase{"pv1", "F", "temperature"},
        InferCase{"pv1", "°F", "temperature"},
        InferCase{"pv1", "bar", "pressure"},
        InferCase{"pv1", "BAR", "pressure"},
        InferCase{"pv1", "psi", "pressure"},
        InferCase{"pv1", "Pa", "pressure"},
        InferCase{"pv1", "kPa", "pressure"},
        InferCase{"pv1", "mbar", "pressure"},
        InferCase{"pv1", "rpm", "speed"},
        InferCase{"pv1", "RPM", "speed"},
        InferCase{"pv1", "kW", "power"},
        InferCase{"pv1", "W", "power"},
        InferCase{"pv1", "kWh", "energy"},
        InferCase{"pv1", "A", "current"},
        InferCase{"pv1", "mA", "current"},
        InferCase{"pv1", "V", "voltage"},
        InferCase{"pv1", "Hz", "frequency"},
        InferCase{"pv1", "m3/h", "flow"},
        InferCase{"pv1", "l/min", "flow"},
        InferCase{"pv1", "mm/s", "vibration"},
        InferCase{"pv1", "%RH", "humidity"},
        InferCase{"pv1", "Nm", "torque"},
        InferCase{"pv1", "kg", "weight"},
        InferCase{"pv1", " bar ", "pressure"},
        InferCase{"pv1", "a", "value"},        // single letters are case-sensitive
        InferCase{"pv1", "k", "value"},
        InferCase{"pv1", "%", "value"},
        InferCase{"pv1", "m", "value"},
        InferCase{"pv1", "furlongs", "value"},
        InferCase{"motor_speed", "A", "speed"}  // name beats unit
        ));

struct TokenCase {
  std::string name;
  std::vector<std::string> want;
};

class TokenTable : public ::testing::TestWithParam<TokenCase> {};

TEST_P(TokenTable, Splits) { EXPECT_EQ(split_name_tokens(GetParam().name), GetParam().want); }

INSTANTIATE_TEST_SUITE_P(
    Cases, TokenTable,
    ::testing::Values(TokenCase{"", {}}, TokenCase{"mixer_temp", {"mixer", "temp"}},
                      TokenCase{"mixerTemp", {"mixer", "temp"}}, TokenCase{"MixerTemp", {"mixer", "temp"}},
                      TokenCase{"PLCStatus", {"plc", "status"}}, TokenCase{"temp1", {"temp", "1"}},
                      TokenCase{"a.b/c-d e", {"a", "b", "c", "d", "e"}}, TokenCase{"__x__", {"x"}},
                      TokenCase{"ABC", {"abc"}}, TokenCase{"line2Speed", {"line", "2", "speed"}}));

}  // namespace
}  // namespace uc::normalize
