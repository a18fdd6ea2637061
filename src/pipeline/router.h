// Routing: which target (table) a source's records go to. A source listed in
// source_targets goes to its own target; every other source goes to the default.
// Pure and built once at startup.
#pragma once

#include <map>
#include <string>

namespace uc::pipeline {

class Router {
 public:
  Router(std::string default_target, std::map<std::string, std::string> source_targets)
      : default_(std::move(default_target)), per_source_(std::move(source_targets)) {}

  const std::string& target_for(const std::string& source) const {
    auto it = per_source_.find(source);
    return it == per_source_.end() ? default_ : it->second;
  }

 private:
  std::string default_;
  std::map<std::string, std::string> per_source_;
};

}  // namespace uc::pipeline
