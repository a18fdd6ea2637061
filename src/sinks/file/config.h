// The file sink's options from the `sinks.file` section (no I/O).
#pragma once

#include <string>

#include "config/config.h"
#include "sinks/file/file_sink.h"

namespace uc::sinks::file {

// The options of the file sink of one target.
Options options_from(const config::Config& cfg, const std::string& target);

}  // namespace uc::sinks::file
