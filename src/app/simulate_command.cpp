#include "app/simulate_command.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "app/commands.h"
#include "app/load_config.h"
#include "config/checks.h"
#include "simulator/modbus/modbus_server.h"
#include "simulator/opcua/opcua_server.h"
#include "simulator/mqtt/mqtt_simulator.h"
#include "sources/modbus/all_orders.h"
#include "sources/modbus/libmodbus_wire.h"
#include "telemetry/log.h"

namespace uc::app {
namespace {

class RunningSimulators final : public Simulators {
 public:
  std::unique_ptr<simulator::modbus::ModbusServer> modbus;
  std::unique_ptr<simulator::opcua::OpcUaServer> opcua;
  std::unique_ptr<simulator::mqtt::MqttSimulator> mqtt;
  ~RunningSimulators() override {
    if (mqtt) mqtt->stop();
    if (modbus) modbus->stop();
    if (opcua) opcua->stop();
  }
};

}  // namespace

Result<std::unique_ptr<Simulators>> start_simulators(const config::Config& cfg, const std::string& host) {
  auto out = std::make_unique<RunningSimulators>();
  const auto& sim = cfg.simulator;
  if (!sim.enabled) return std::unique_ptr<Simulators>(std::move(out));
  if (sim.modbus.enabled) {
    simulator::modbus::ServerOptions o;
    o.host = host;
    o.port = sim.modbus.port;
    auto server = std::make_unique<simulator::modbus::ModbusServer>(o);
    if (Status s = server->start(); !s.is_ok()) return s;
    spdlog::info("simulator: Modbus TCP on {}:{} (register map: docs/simulator-modbus.md)", host, server->port());
    out->modbus = std::move(server);
  }
  if (sim.opcua.enabled) {
    simulator::opcua::ServerOptions o;
    o.host = host;
    o.port = sim.opcua.port;
    o.space.variables = sim.opcua.variables;
    auto server = std::make_unique<simulator::opcua::OpcUaServer>(o);
    if (Status s = server->start(); !s.is_ok()) return s;
    spdlog::info("simulator: OPC UA on {} with {} plant variables (address space: docs/simulator-opcua.md)",
                 server->endpoint_url(), sim.opcua.variables);
    out->opcua = std::move(server);
  }
  if (sim.mqtt.enabled) {
    if (sim.mqtt.broker.rfind("mqtts://", 0) == 0) {
      return Status(StatusCode::kUnimplemented, "simulator.mqtt.broker: mqtts:// is not available yet in this build");
    }
    std::string_view rest = std::string_view(sim.mqtt.broker).substr(7);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    const auto hp = config::parse_host_port(rest, 1883);
    if (!hp) return invalid_argument("simulator.mqtt.broker: invalid host or port in " + sim.mqtt.broker);
    simulator::mqtt::SimulatorOptions o;
    o.host = hp->host;
    o.port = hp->port;
    o.interval_ms = sim.mqtt.interval_ms;
    o.plant.json = sim.mqtt.json;
    o.plant.sparkplug = sim.mqtt.sparkplug;
    o.plant.devices = sim.mqtt.devices;
    auto client = std::make_unique<simulator::mqtt::MqttSimulator>(o);
    if (Status s = client->start(); !s.is_ok()) return s;
    spdlog::info("simulator: MQTT publisher to {}:{} (JSON under factory/, Sparkplug B under spBv1.0/sim/; "
                 "docs/simulator-mqtt.md)", o.host, o.port);
    out->mqtt = std::move(client);
  }
  return std::unique_ptr<Simulators>(std::move(out));
}

int cmd_simulate(const std::string& config_path, const std::string& host) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto cfg = load_config(config_path, std::cerr);
  if (!cfg) return kExitUsage;
  telemetry::init_logging(telemetry::to_string(cfg->connector.log_level));
  if (!cfg->simulator.modbus.enabled && !cfg->simulator.opcua.enabled && !cfg->simulator.mqtt.enabled) {
    std::cerr << config_path << ": nothing to simulate: simulator.modbus, simulator.opcua and simulator.mqtt are "
              << "all disabled\n";
    return kExitUsage;
  }
  cfg->simulator.enabled = true;  // `simulate` serves the enabled parts whatever `run` would do
  auto sims = start_simulators(*cfg, host);
  if (!sims.is_ok()) {
    spdlog::error("cannot start the simulator: {}", sims.status().to_string());
    return kExitFailure;
  }
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received {}: stopping the simulator", sig == SIGINT ? "SIGINT" : "SIGTERM");
  sims->reset();
  return kExitOk;
}

int cmd_read_all_orders(const std::string& config_path, const std::string& source) {
  auto cfg = load_config(config_path, std::cerr);
  if (!cfg) return kExitUsage;
  telemetry::init_logging("warn");
  const auto* sc = cfg->find_source(source);
  if (sc == nullptr) {
    std::cerr << "no source named \"" << source << "\" in " << config_path << '\n';
    return kExitUsage;
  }
  const auto* opts = dynamic_cast<const sources::modbus::Options*>(sc->options.get());
  if (sc->protocol != "modbus" || opts == nullptr) {
    std::cerr << "--all-orders applies to modbus sources; " << source << " is protocol " << sc->protocol << '\n';
    return kExitUsage;
  }
  sources::modbus::LibmodbusWire wire(*opts);
  auto rows = sources::modbus::read_all_orders(*opts, wire);
  if (!rows.is_ok()) {
    std::cerr << "source " << source << ": " << rows.status().message() << '\n';
    return kExitFailure;
  }
  std::cout << sources::modbus::format_all_orders(*rows);
  return kExitOk;
}

}  // namespace uc::app
