#include "sources/synthetic/registration.h"

#include "sources/synthetic/config.h"
#include "sources/synthetic/synthetic_source.h"

namespace uc::sources::synthetic {
namespace {

Result<std::unique_ptr<pipeline::Source>> build(const config::SourceConfig& source) {
  return pipeline::build_with<SyntheticOptions>(source, [](const std::string& name, const SyntheticOptions& o) {
    return std::make_unique<SyntheticSource>(name, o.options);
  });
}

}  // namespace

pipeline::SourceRegistration registration() { return {"synthetic", parse_options, build}; }

}  // namespace uc::sources::synthetic
