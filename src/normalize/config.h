// The normalizer's options from the `normalization:` section and a source's entry (no I/O).
#pragma once

#include "config/config.h"
#include "normalize/normalizer.h"

namespace uc::normalize {

Options options_from(const config::Config& cfg);
// The source's name, protocol, endpoint, ISA-95 context and path template override.
SourceInfo source_info_from(const config::SourceConfig& source);

}  // namespace uc::normalize
