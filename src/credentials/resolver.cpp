#include "credentials/resolver.h"

#include <cctype>

namespace uc::credentials {

std::string override_variable(const std::string& name) {
  std::string out = kOverridePrefix;
  for (char c : name) {
    out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<KeyInputs> key_inputs_from_env(const config::EnvLookup& env) {
  KeyInputs keys;
  if (auto pw = env(kMasterPasswordEnv); pw && !pw->empty()) keys.password = std::move(*pw);
  if (auto file = env(kKeyFileEnv); file && !file->empty()) {
    auto key = read_key_file(*file);
    if (!key) return Status(key.status().code(), std::string(kKeyFileEnv) + ": " + key.status().message());
    keys.key = std::move(key).value();
  }
  return keys;
}

StoreResolver::StoreResolver(std::string store_path, config::EnvLookup env, const Clock& clock)
    : path_(std::move(store_path)), env_(std::move(env)), clock_(&clock) {}

Result<std::string> StoreResolver::resolve(const std::string& name) const {
  if (auto v = env_(override_variable(name))) return std::move(*v);
  std::lock_guard lock(mu_);
  if (!store_) {
    auto store = Store::load(path_, *clock_);
    if (store.is_ok()) {
      auto keys = key_inputs_from_env(env_);
      if (!keys) {
        store = keys.status();
      } else if (Status s = store->unlock(*keys); !s.is_ok()) {
        store = s;
      }
    }
    store_.emplace(std::move(store));
  }
  if (!store_->is_ok()) {
    if (store_->status().code() == StatusCode::kNotFound) {
      return not_found("no credential store at " + path_ + " (create it with `unified-connector creds set " + name +
                       " --store " + path_ + "`, or set " + override_variable(name) + ")");
    }
    return store_->status();
  }
  return (*store_)->get(name);
}

}  // namespace uc::credentials
