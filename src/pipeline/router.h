// Routing: which target (table) a source's records go to. A source listed in
// zerobus.source_targets goes to its own target; every other source goes to the default
// (zerobus.default_target, or "default" without one). Pure, built once at startup, then
// read-only (any thread).
#pragma once

#include <map>
#include <set>
#include <string>

#include "config/config.h"

namespace uc::pipeline {

class Router {
 public:
  Router(std::string default_target, std::map<std::string, std::string> source_targets)
      : default_(std::move(default_target)), per_source_(std::move(source_targets)) {}

  static Router from_config(const config::Config& cfg) {
    std::map<std::string, std::string> per_source;
    for (const auto& [source, table] : cfg.zerobus.source_targets) per_source[source] = table.full_name();
    return Router(cfg.zerobus.default_target ? cfg.zerobus.default_target->full_name() : std::string("default"),
                  std::move(per_source));
  }

  const std::string& target_for(const std::string& source) const {
    auto it = per_source_.find(source);
    return it == per_source_.end() ? default_ : it->second;
  }
  const std::string& default_target() const { return default_; }

 private:
  std::string default_;
  std::map<std::string, std::string> per_source_;
};

}  // namespace uc::pipeline
