// The simulator as a subcommand (`simulate`) and in-process for `run`, plus the
// Modbus-only `read --all-orders`.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/status.h"

namespace uc::app {

// The running simulator parts of a config; stops them when destroyed.
class Simulators {
 public:
  virtual ~Simulators() = default;
};

// When cfg.simulator.enabled, starts the enabled parts this build has (Modbus TCP) and
// logs the parts it has not. An empty object when nothing is enabled.
Result<std::unique_ptr<Simulators>> start_simulators(const config::Config& cfg, const std::string& host);

// `simulate --config FILE [--host H]`: serves until SIGINT/SIGTERM.
int cmd_simulate(const std::string& config_path, const std::string& host);

// `read --config FILE --source NAME --all-orders`: one read of a Modbus source, each
// numeric tag decoded in ABCD, CDAB, BADC and DCBA side by side.
int cmd_read_all_orders(const std::string& config_path, const std::string& source);

}  // namespace uc::app
