// YAML options of `protocol: synthetic` (see docs/sources/synthetic.md).
#pragma once

#include <memory>

#include "config/config.h"
#include "config/reader.h"
#include "sources/synthetic/options.h"

namespace uc::sources::synthetic {

struct SyntheticOptions final : config::SourceOptions {
  Options options;
};

// Parses the protocol-specific keys of one source entry; errors go to `errors`.
std::shared_ptr<const config::SourceOptions> parse_options(const config::Reader& node, config::Errors& errors);

}  // namespace uc::sources::synthetic
