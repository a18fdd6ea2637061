#include "sources/modbus/registration.h"

#include "sources/modbus/config.h"
#include "sources/modbus/modbus_source.h"

namespace uc::sources::modbus {
namespace {

Result<std::unique_ptr<pipeline::Source>> build(const config::SourceConfig& source) {
  return pipeline::build_with<Options>(
      source, [](const std::string& name, const Options& o) { return std::make_unique<ModbusSource>(name, o); });
}

}  // namespace

pipeline::SourceRegistration registration() { return {"modbus", parse_options, build}; }

}  // namespace uc::sources::modbus
