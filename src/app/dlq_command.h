// `unified-connector dlq list|replay|purge` — the dead-letter queues from the command line.
#pragma once

#include <string>

namespace uc::app {

// action: list | replay | purge. target empty = every target. Returns the exit code.
int cmd_dlq(const std::string& action, const std::string& config_path, const std::string& target, int limit);

}  // namespace uc::app
