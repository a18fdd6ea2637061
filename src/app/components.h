// The one explicit list of components (house rule 2: adding a protocol or sink
// touches its folder and this list). No static self-registration.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/loader.h"
#include "core/status.h"
#include "pipeline/source.h"

namespace uc::app {

// Registers the option parser of every known source protocol.
void register_protocols(config::Loader& loader);

// Builds the runtime object of a configured source. Protocols whose runtime is not
// built yet answer kUnimplemented with a message saying so.
Result<std::unique_ptr<pipeline::Source>> build_source(const config::SourceConfig& source);

// Features named in the config that this build cannot run yet, one line each
// ("zerobus sink (zerobus.enabled)" ...), so `run` can say so instead of ignoring them.
std::vector<std::string> unavailable_features(const config::Config& cfg);

}  // namespace uc::app
