// What a config asks for that this build cannot run yet, so that `run` and `validate`
// can say so instead of ignoring it.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace uc::app {

// Features named in the config that this build cannot run yet, one line each
// ("discovery (discovery.enabled): no scans run" ...).
std::vector<std::string> unavailable_features(const config::Config& cfg);

}  // namespace uc::app
