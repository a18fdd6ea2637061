#include "config/config.h"

namespace uc::config {

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
