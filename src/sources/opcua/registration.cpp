#include "sources/opcua/registration.h"

#include "sources/opcua/config.h"
#include "sources/opcua/opcua_source.h"

namespace uc::sources::opcua {
namespace {

// The client speaks security policy None only (anonymous or user name) so far.
Status check(const config::SourceConfig& source) {
  const auto* o = dynamic_cast<const Options*>(source.options.get());
  if (o != nullptr && o->security.policy != SecurityPolicy::kNone) {
    return Status(StatusCode::kUnimplemented, "source " + source.name +
                                                  ": OPC UA security policies other than None are not available yet "
                                                  "in this build (policy None, anonymous or user name)");
  }
  return Status::ok();
}

Result<std::unique_ptr<pipeline::Source>> build(const config::SourceConfig& source) {
  if (Status s = check(source); !s.is_ok()) return s;
  return pipeline::build_with<Options>(
      source, [](const std::string& name, const Options& o) { return std::make_unique<OpcuaSource>(name, o); });
}

}  // namespace

pipeline::SourceRegistration registration() { return {"opcua", parse_options, build, check}; }

}  // namespace uc::sources::opcua
