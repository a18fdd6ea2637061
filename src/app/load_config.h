// The one way every subcommand (run, validate, read, simulate, dlq, ...) loads its
// configuration: every protocol of the source table registered, ${env:} substituted and
// ${credential:} resolved from the store named by credentials.store (or its environment
// overrides, credentials/resolver.h). Called on the main thread before anything starts.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "config/config.h"

namespace uc::app {

// The loaded config, or nullopt after printing the errors ("file:line:col: key: message"),
// the first config::kMaxPrintedErrors of them and "… and N more", and a count line to
// `err`. Notes are printed the same way, capped alike. An unresolvable credential is an
// error at its key.
std::optional<config::Config> load_config(const std::string& path, std::ostream& err);

}  // namespace uc::app
