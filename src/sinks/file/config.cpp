#include "sinks/file/config.h"

#include <filesystem>

namespace uc::sinks::file {

Options options_from(const config::Config& cfg, const std::string& target) {
  const auto& f = cfg.sinks.file;
  Options o;
  o.directory = f.directory.empty() ? (std::filesystem::path(cfg.connector.data_dir) / "records").string()
                                    : f.directory;
  o.target = target;
  o.rotate_bytes = static_cast<std::uint64_t>(f.rotate_mb) * 1024 * 1024;
  o.rotate_interval = std::chrono::seconds(f.rotate_s);
  o.fsync = f.fsync;
  o.max_record_bytes = static_cast<std::uint64_t>(f.max_record_bytes);
  return o;
}

}  // namespace uc::sinks::file
