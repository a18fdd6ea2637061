#include "app/components.h"

#include "sources/modbus/config.h"
#include "sources/modbus/modbus_source.h"
#include "sources/mqtt/config.h"
#include "sources/mqtt/mqtt_source.h"
#include "sources/opcua/config.h"
#include "sources/opcua/opcua_source.h"
#include "sources/synthetic/config.h"
#include "sources/synthetic/synthetic_source.h"

namespace uc::app {

void register_protocols(config::Loader& loader) {
  loader.register_protocol("synthetic", sources::synthetic::parse_options);
  loader.register_protocol("opcua", sources::opcua::parse_options);
  loader.register_protocol("mqtt", sources::mqtt::parse_options);
  loader.register_protocol("modbus", sources::modbus::parse_options);
}

Result<std::unique_ptr<pipeline::Source>> build_source(const config::SourceConfig& source) {
  if (source.protocol == "synthetic") {
    const auto* opts = dynamic_cast<const sources::synthetic::SyntheticOptions*>(source.options.get());
    if (opts == nullptr) return internal_error("source " + source.name + ": synthetic options missing");
    return std::unique_ptr<pipeline::Source>(
        std::make_unique<sources::synthetic::SyntheticSource>(source.name, opts->options));
  }
  if (source.protocol == "modbus") {
    const auto* opts = dynamic_cast<const sources::modbus::Options*>(source.options.get());
    if (opts == nullptr) return internal_error("source " + source.name + ": modbus options missing");
    return std::unique_ptr<pipeline::Source>(std::make_unique<sources::modbus::ModbusSource>(source.name, *opts));
  }
  if (source.protocol == "mqtt") {
    const auto* opts = dynamic_cast<const sources::mqtt::Options*>(source.options.get());
    if (opts == nullptr) return internal_error("source " + source.name + ": mqtt options missing");
    return std::unique_ptr<pipeline::Source>(std::make_unique<sources::mqtt::MqttSource>(source.name, *opts));
  }
  if (source.protocol == "opcua") {
    const auto* opts = dynamic_cast<const sources::opcua::Options*>(source.options.get());
    if (opts == nullptr) return internal_error("source " + source.name + ": opcua options missing");
    if (opts->security.policy != sources::opcua::SecurityPolicy::kNone) {
      return Status(StatusCode::kUnimplemented, "source " + source.name +
                                                    ": OPC UA security policies other than None are not available yet "
                                                    "in this build (policy None, anonymous or user name)");
    }
    return std::unique_ptr<pipeline::Source>(std::make_unique<sources::opcua::OpcuaSource>(source.name, *opts));
  }
  return Status(StatusCode::kUnimplemented,
                "source " + source.name + ": protocol " + source.protocol + " is not available yet in this build");
}

std::vector<std::string> unavailable_features(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const auto& s : cfg.sources) {
    const auto* ua = dynamic_cast<const sources::opcua::Options*>(s.options.get());
    const bool ua_ok = s.protocol == "opcua" && ua != nullptr &&
                       ua->security.policy == sources::opcua::SecurityPolicy::kNone;
    if (s.enabled && s.protocol != "synthetic" && s.protocol != "modbus" && s.protocol != "mqtt" && !ua_ok) {
      out.push_back("source " + s.name + " (protocol " + s.protocol + "): not started");
    }
  }
  if (cfg.discovery.enabled) out.push_back("discovery (discovery.enabled): no scans run");
  if (cfg.web_ui.enabled && cfg.web_ui.tls.enabled) out.push_back("API TLS (web_ui.tls.enabled): serving plain HTTP");
  return out;
}

}  // namespace uc::app
