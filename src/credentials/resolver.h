// The credential store as the config loader's CredentialResolver, and the
// environment variables of SPEC §8 (docs/credentials.md):
//
//   CONNECTOR_MASTER_PASSWORD       the master password of a pbkdf2 store
//   CONNECTOR_KEY_FILE              path of a Fernet key file (key-file store)
//   CONNECTOR_NEW_MASTER_PASSWORD   the new password for `creds rotate`
//   CONNECTOR_CREDENTIAL_<NAME>     overrides entry NAME: NAME upper-cased, with
//                                   '.' and '-' written as '_' (api_token ->
//                                   CONNECTOR_CREDENTIAL_API_TOKEN). Used even
//                                   when there is no store.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "config/secret.h"
#include "config/substitute.h"
#include "core/clock.h"
#include "credentials/store.h"

namespace uc::credentials {

inline constexpr const char* kMasterPasswordEnv = "CONNECTOR_MASTER_PASSWORD";
inline constexpr const char* kKeyFileEnv = "CONNECTOR_KEY_FILE";
inline constexpr const char* kNewMasterPasswordEnv = "CONNECTOR_NEW_MASTER_PASSWORD";
inline constexpr const char* kOverridePrefix = "CONNECTOR_CREDENTIAL_";

// "CONNECTOR_CREDENTIAL_API_TOKEN" for "api_token".
std::string override_variable(const std::string& name);

// The unlock inputs the environment gives: the master password and/or the key
// read from CONNECTOR_KEY_FILE (an unreadable or group-readable key file is an
// error). Empty variables count as unset.
Result<KeyInputs> key_inputs_from_env(const config::EnvLookup& env);

// Resolves ${credential:NAME}: the override variable if set, else the store's
// entry. The store is opened and unlocked once, on the first lookup that needs
// it (so a config whose credentials all come from the environment needs no
// store), and that outcome is kept. Error messages name the store and the
// entry, never a value. Thread-safe.
class StoreResolver final : public config::CredentialResolver {
 public:
  explicit StoreResolver(std::string store_path, config::EnvLookup env = config::process_environment(),
                         const Clock& clock = SystemClock::instance());
  Result<std::string> resolve(const std::string& name) const override;

 private:
  std::string path_;
  config::EnvLookup env_;
  const Clock* clock_;
  mutable std::mutex mu_;
  mutable std::optional<Result<Store>> store_;
};

}  // namespace uc::credentials
