#include "app/live_zerobus.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "config/source_document.h"
#include "credentials/resolver.h"
#include "credentials/store.h"

namespace uc::app {
namespace {

const std::string kReference = std::string("${credential:") + LiveZerobus::kSecretName + "}";

bool is_credential_reference(const std::string& v) { return v.rfind("${credential:", 0) == 0 && v.back() == '}'; }

// The first string in `j` holding an ${env:} reference, as a JSON pointer; nullopt if none.
std::optional<std::string> env_reference(const nlohmann::json& j, const std::string& pointer) {
  if (j.is_string()) {
    if (j.get<std::string>().find("${env:") != std::string::npos) return pointer;
    return std::nullopt;
  }
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (auto p = env_reference(v, pointer + "/" + k)) return p;
    }
  }
  if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (auto p = env_reference(j[i], pointer + "/" + std::to_string(i))) return p;
    }
  }
  return std::nullopt;
}

// Answers kSecretName with the value about to be stored, so that a body is checked
// before anything is written; every other name from the store.
class PendingResolver final : public config::CredentialResolver {
 public:
  PendingResolver(const std::string& store, const std::optional<std::string>& pending)
      : store_(store), pending_(pending) {}
  Result<std::string> resolve(const std::string& name) const override {
    if (pending_ && name == LiveZerobus::kSecretName) return *pending_;
    return store_.resolve(name);
  }

 private:
  credentials::StoreResolver store_;
  const std::optional<std::string>& pending_;
};

}  // namespace

LiveZerobus::LiveZerobus(RunningConfig& config, pipeline::Pipeline& pipeline, ManagedSources* managed)
    : config_(config), pipeline_(pipeline), managed_(managed) {
  if (managed_ != nullptr) running_section_ = YAML::Dump(managed_->zerobus_section());
}

nlohmann::json LiveZerobus::view(const YAML::Node& section) const {
  nlohmann::json config = config::yaml_document(section, {"auth.client_secret"});
  const bool secret_set = config.contains("auth") && config["auth"].is_object() &&
                          config["auth"].contains("client_secret") && !config["auth"]["client_secret"].is_null();
  std::lock_guard lock(mu_);
  return {{"config", std::move(config)},
          {"client_secret_set", secret_set},
          {"credential_store", config_.read([](const config::Config& c) { return c.credentials.store; })},
          {"delivery", pipeline_.delivery_state(kSink)},
          {"restart_required", secret_changed_ || YAML::Dump(section) != running_section_}};
}

nlohmann::json LiveZerobus::config() const {
  if (managed_ == nullptr) {
    // No managed file: the running section is all there is; shown from the running values.
    YAML::Node none(YAML::NodeType::Map);
    nlohmann::json v = view(none);
    v["restart_required"] = false;
    return v;
  }
  return view(managed_->zerobus_section());
}

void LiveZerobus::merge(const nlohmann::json& body, YAML::Node& section, std::optional<std::string>* secret,
                        Change& change) const {
  if (auto p = env_reference(body, "")) {
    change.errors.push_back({*p, "${env:} references are not accepted through the API; use the value or a "
                                 "${credential:NAME} reference"});
    return;
  }
  if (body.contains("auth") && body["auth"].is_object() && body["auth"].contains("client_secret") &&
      !body["auth"]["client_secret"].is_string() && !body["auth"]["client_secret"].is_null()) {
    change.errors.push_back({"/auth/client_secret", "expected a string"});
    return;
  }
  nlohmann::json merged = config::yaml_document(section, {});
  if (!merged.is_object()) merged = nlohmann::json::object();
  for (const auto& [key, value] : body.items()) {
    if (key == "auth" && value.is_object() && merged.contains("auth") && merged["auth"].is_object()) {
      for (const auto& [k, v] : value.items()) {
        if (v.is_null()) {
          merged["auth"].erase(k);
        } else {
          merged["auth"][k] = v;
        }
      }
    } else if (value.is_null()) {
      merged.erase(key);
    } else {
      merged[key] = value;
    }
  }
  // A plain secret, sent or already in the section (a file may hold one), goes to the
  // store: the managed file holds only the reference.
  if (merged.contains("auth") && merged["auth"].is_object() && merged["auth"].contains("client_secret")) {
    auto& s = merged["auth"]["client_secret"];
    if (!s.is_null() && !(s.is_string() && is_credential_reference(s.get<std::string>()))) {
      const std::string value = s.is_string() ? s.get<std::string>() : s.dump();
      if (value.empty() || value.size() > credentials::kMaxValueBytes) {
        change.errors.push_back({"/auth/client_secret", "must be 1 to " + std::to_string(credentials::kMaxValueBytes) +
                                                            " bytes"});
        return;
      }
      *secret = value;
      s = kReference;
    }
  }
  section = YAML::Load(merged.dump());
}

void LiveZerobus::check(const YAML::Node& section, const std::optional<std::string>& secret, Change& change) const {
  const config::Config base = config_.snapshot();
  const PendingResolver resolver(base.credentials.store, secret);
  auto r = loader_.load_zerobus(YAML::Dump(section), "body", base, &resolver);
  for (const auto& e : r.errors) change.errors.push_back({config::json_pointer(e), e.message});
}

Status LiveZerobus::store_secret(const std::string& value) const {
  const std::string path = config_.read([](const config::Config& c) { return c.credentials.store; });
  auto keys = credentials::key_inputs_from_env(config::process_environment());
  if (!keys.is_ok()) return Status(StatusCode::kFailedPrecondition, keys.status().message());
  if (keys->empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  std::string("cannot store the client secret: neither ") + credentials::kMasterPasswordEnv + " nor " +
                      credentials::kKeyFileEnv + " is set for the connector (credential store " + path + ")");
  }
  auto store = credentials::Store::load(path);
  if (!store.is_ok() && store.status().code() == StatusCode::kNotFound) store = credentials::Store::create(path, *keys);
  if (!store.is_ok()) return Status(StatusCode::kFailedPrecondition, store.status().message());
  if (!store->unlocked()) {
    if (Status s = store->unlock(*keys); !s.is_ok()) return Status(StatusCode::kFailedPrecondition, s.message());
  }
  if (Status s = store->set(kSecretName, value); !s.is_ok()) return Status(StatusCode::kFailedPrecondition, s.message());
  if (Status s = store->save(); !s.is_ok()) return Status(StatusCode::kFailedPrecondition, s.message());
  return Status::ok();
}

LiveZerobus::Change LiveZerobus::set_config(const nlohmann::json& body) {
  Change change;
  if (managed_ == nullptr) {
    change.status = unavailable("this connector was not started from a configuration file; nothing can be saved");
    return change;
  }
  std::lock_guard serial(mu_set_);
  YAML::Node section = managed_->zerobus_section();
  std::optional<std::string> secret;
  merge(body, section, &secret, change);
  if (change.errors.empty()) check(section, secret, change);
  if (!change.errors.empty()) return change;
  if (secret) {
    change.status = store_secret(*secret);
    if (!change.status.is_ok()) return change;
    const bool differs = config_.read([&](const config::Config& c) { return c.zerobus.client_secret.value != *secret; });
    std::lock_guard lock(mu_);
    secret_changed_ = secret_changed_ || differs;
  }
  change.status = managed_->set_zerobus(section);
  if (!change.status.is_ok()) return change;
  spdlog::info("zerobus configuration changed through the API and saved to {}{}; it applies at the next start",
               managed_->path(), secret ? " (client secret stored as credential " + std::string(kSecretName) + ")" : "");
  change.view = view(section);
  change.view["saved"] = true;
  change.view["credential_stored"] = secret.has_value();
  return change;
}

Result<nlohmann::json> LiveZerobus::set_delivery(bool running) {
  auto targets = pipeline_.set_delivery_paused(kSink, !running);
  if (!targets.is_ok()) {
    return Status(StatusCode::kFailedPrecondition, "zerobus is not enabled in this run (zerobus.enabled)");
  }
  spdlog::info("zerobus delivery {} through the API (targets {})", running ? "resumed" : "stopped",
               nlohmann::json(*targets).dump());
  return nlohmann::json{{"delivery", running ? "running" : "stopped"}, {"targets", *targets}};
}

}  // namespace uc::app
