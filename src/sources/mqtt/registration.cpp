#include "sources/mqtt/registration.h"

#include "sources/mqtt/config.h"
#include "sources/mqtt/mqtt_source.h"

namespace uc::sources::mqtt {
namespace {

Result<std::unique_ptr<pipeline::Source>> build(const config::SourceConfig& source) {
  return pipeline::build_with<Options>(
      source, [](const std::string& name, const Options& o) { return std::make_unique<MqttSource>(name, o); });
}

// A test client beside the running one: a client id of its own (the broker would close
// the running session on a duplicate), a clean session (no queued messages of the running
// session taken, none left behind), and no Sparkplug host role (no STATE published, no
// rebirth requested from edge nodes).
std::shared_ptr<const config::SourceOptions> probe_options(const config::SourceOptions& options) {
  const auto* o = dynamic_cast<const Options*>(&options);
  if (o == nullptr) return nullptr;
  auto probe = std::make_shared<Options>(*o);
  if (!probe->client_id.empty()) probe->client_id += "-test";
  probe->clean_session = true;
  probe->sparkplug.host_id.clear();
  probe->sparkplug.send_rebirth = false;
  return probe;
}

}  // namespace

pipeline::SourceRegistration registration() {
  pipeline::SourceRegistration r{"mqtt", parse_options, build};
  r.probe_options = probe_options;
  return r;
}

}  // namespace uc::sources::mqtt
