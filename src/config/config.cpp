#include "config/config.h"

namespace uc::config {

const char* to_string(LogLevel v) {
  switch (v) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}

const char* to_string(DropPolicy v) {
  switch (v) {
    case DropPolicy::kBlock: return "block";
    case DropPolicy::kOldest: return "oldest";
    case DropPolicy::kNewest: return "newest";
  }
  return "?";
}

const char* to_string(FsyncPolicy v) {
  switch (v) {
    case FsyncPolicy::kBatch: return "batch";
    case FsyncPolicy::kInterval: return "interval";
    case FsyncPolicy::kNever: return "never";
  }
  return "?";
}

const char* to_string(RecordFormat v) {
  switch (v) {
    case RecordFormat::kProto: return "proto";
    case RecordFormat::kJson: return "json";
  }
  return "?";
}

const char* to_string(RuleField v) {
  switch (v) {
    case RuleField::kTopic: return "topic";
    case RuleField::kAddress: return "address";
    case RuleField::kBrowsePath: return "browse_path";
    case RuleField::kName: return "name";
  }
  return "?";
}

const std::vector<std::string>& path_template_placeholders() {
  static const std::vector<std::string> kPlaceholders = {"site",        "area",     "line",   "equipment",
                                                         "signal_type", "tag_name", "source", "protocol"};
  return kPlaceholders;
}

const SourceConfig* Config::find_source(std::string_view name) const {
  for (const SourceConfig& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace uc::config
