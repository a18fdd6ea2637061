#include "sources/mqtt/registration.h"

#include "sources/mqtt/config.h"
#include "sources/mqtt/mqtt_source.h"

namespace uc::sources::mqtt {
namespace {

Result<std::unique_ptr<pipeline::Source>> build(const config::SourceConfig& source) {
  return pipeline::build_with<Options>(
      source, [](const std::string& name, const Options& o) { return std::make_unique<MqttSource>(name, o); });
}

}  // namespace

pipeline::SourceRegistration registration() { return {"mqtt", parse_options, build}; }

}  // namespace uc::sources::mqtt
