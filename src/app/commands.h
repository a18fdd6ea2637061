// The subcommands. Each returns the process exit code.
#pragma once

#include <string>

namespace uc::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int cmd_run(const std::string& config_path);
int cmd_validate(const std::string& config_path);
int cmd_read(const std::string& config_path, const std::string& source, int batches, int timeout_ms);
int cmd_schema(bool proto, const std::string& table);
int cmd_version();

// The Delta DDL derived from proto/record.proto's compiled descriptor.
std::string schema_sql(const std::string& table);

}  // namespace uc::app
