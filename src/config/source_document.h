// A configured source as JSON, for the API (GET /api/sources): the entry as the user
// wrote it, with the value of every secret key replaced by "***" (a ${credential:}
// reference too, so nothing about a secret is echoed). Plain YAML scalars become JSON
// numbers, booleans or null when they read as such; quoted scalars stay strings.
// Pure; any thread.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

#include "config/config.h"

namespace uc::config {

inline constexpr const char* kMaskedSecret = "***";

// {} when the source has no document (made in code).
nlohmann::json source_document(const SourceConfig& source);

// Any YAML node as JSON by the same rules; the scalar at each of secret_keys (key paths
// "auth.client_secret") becomes "***".
nlohmann::json yaml_document(const YAML::Node& node, const std::vector<std::string>& secret_keys);

}  // namespace uc::config
