#include "app/load_config.h"

#include "app/managed_sources.h"
#include "app/registry.h"
#include "config/loader.h"
#include "credentials/resolver.h"

namespace uc::app {
namespace {

// Records whether a config references credentials, resolving each reference to an
// empty placeholder, so that a first pass can learn credentials.store.
class ReferenceProbe final : public config::CredentialResolver {
 public:
  Result<std::string> resolve(const std::string& /*name*/) const override {
    found_ = true;
    return std::string();
  }
  bool found() const { return found_; }

 private:
  mutable bool found_ = false;
};

}  // namespace

// Two passes when the config references credentials: the first learns credentials.store,
// the second resolves every reference from the store.
std::optional<config::Config> load_config(const std::string& path, std::ostream& err) {
  config::Loader loader;
  register_protocols(loader);
  ReferenceProbe probe;
  auto r = loader.load_file(path, &probe);
  if (r.ok() && probe.found()) {
    const credentials::StoreResolver resolver(r.config->credentials.store);
    r = {};  // not two configs at once: a file of 200,000 sources is about 200 MB loaded
    r = loader.load_file(path, &resolver);
  }
  if (r.ok()) {  // the sources changed through the API, on top of the file (ADR 0008)
    const credentials::StoreResolver resolver(r.config->credentials.store);
    ManagedSources::apply(ManagedSources::path_for(path), loader, &resolver, *r.config, r.errors, r.notes);
    if (!r.errors.empty()) r.config.reset();
  }
  config::write_capped(err, r.notes, config::kMaxPrintedErrors, "note: ");
  if (!r.ok()) {
    config::write_capped(err, r.errors, config::kMaxPrintedErrors);
    err << r.errors.size() << (r.errors.size() == 1 ? " error" : " errors") << " in " << path << '\n';
    return std::nullopt;
  }
  return std::move(r.config);
}

}  // namespace uc::app
