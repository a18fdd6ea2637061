// The one table of sources and the one table of sinks (house rule 2). Adding a protocol
// is its folder under src/sources/ (config.h/.cpp, <name>_source.h/.cpp, registration.h/.cpp)
// and one line in registry.cpp; adding a sink kind is the same under src/sinks/.
// Explicit lists, no static self-registration. Read-only after first use; any thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/loader.h"
#include "core/status.h"
#include "pipeline/registration.h"

namespace uc::app {

const std::vector<pipeline::SourceRegistration>& source_table();
// In the order each target's lanes are made (and listed in /api/status).
const std::vector<pipeline::SinkRegistration>& sink_table();

// The table's entry for a protocol; null when there is none.
const pipeline::SourceRegistration* find_source(std::string_view protocol);

// Registers the option parser of every source in the table.
void register_protocols(config::Loader& loader);

// Builds the runtime object of a configured source with its protocol's builder.
// kUnimplemented (with a message saying so) when this build cannot run it.
Result<std::unique_ptr<pipeline::Source>> build_source(const config::SourceConfig& source);

// Whether this build can run the configured source (kUnimplemented when not).
Status check_source(const config::SourceConfig& source);

}  // namespace uc::app
