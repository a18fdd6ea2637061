#include "app/components.h"

#include "app/registry.h"

namespace uc::app {

std::vector<std::string> unavailable_features(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const auto& s : cfg.sources) {
    if (s.enabled && !check_source(s).is_ok()) {
      out.push_back("source " + s.name + " (protocol " + s.protocol + "): not started");
    }
  }
  if (cfg.discovery.enabled) out.push_back("discovery (discovery.enabled): no scans run");
  return out;
}

}  // namespace uc::app
