#include "app/registry.h"

#include "sinks/file/registration.h"
#include "sinks/stdout/registration.h"
#include "sinks/zerobus/registration.h"
#include "sources/modbus/registration.h"
#include "sources/mqtt/registration.h"
#include "sources/opcua/registration.h"
#include "sources/synthetic/registration.h"

namespace uc::app {

const std::vector<pipeline::SourceRegistration>& source_table() {
  static const std::vector<pipeline::SourceRegistration> kSources = {
      sources::synthetic::registration(),
      sources::opcua::registration(),
      sources::mqtt::registration(),
      sources::modbus::registration(),
  };
  return kSources;
}

const std::vector<pipeline::SinkRegistration>& sink_table() {
  static const std::vector<pipeline::SinkRegistration> kSinks = {
      sinks::zerobus::registration(),
      sinks::file::registration(),
      sinks::stdout_sink::registration(),
  };
  return kSinks;
}

const pipeline::SourceRegistration* find_source(std::string_view protocol) {
  for (const auto& r : source_table()) {
    if (r.protocol == protocol) return &r;
  }
  return nullptr;
}

void register_protocols(config::Loader& loader) {
  for (const auto& r : source_table()) loader.register_protocol(std::string(r.protocol), r.parse);
}

Status check_source(const config::SourceConfig& source) {
  const auto* r = find_source(source.protocol);
  if (r == nullptr) {
    return Status(StatusCode::kUnimplemented,
                  "source " + source.name + ": protocol " + source.protocol + " is not available in this build");
  }
  return r->check == nullptr ? Status::ok() : r->check(source);
}

Result<std::unique_ptr<pipeline::Source>> build_source(const config::SourceConfig& source) {
  if (Status s = check_source(source); !s.is_ok()) return s;
  return find_source(source.protocol)->build(source);
}

}  // namespace uc::app
