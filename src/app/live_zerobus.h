// The Zerobus section and delivery of a running connector (SPEC §9, issue 14): the
// api::ZerobusControl behind /api/zerobus/config|start|stop.
//
// Configuration: what GET shows and POST changes is the section in effect at the next
// start (ManagedSources::zerobus_section: the managed file's, else the file's, as
// written). POST merges the body into it, checks the result with Loader::load_zerobus (the
// code and messages of `validate`), then stores a plain client secret in the credential
// store (credentials.store, unlocked by CONNECTOR_MASTER_PASSWORD or CONNECTOR_KEY_FILE)
// under kSecretName, writes the section with ${credential:kSecretName} into the managed
// file (ADR 0008) and answers restart_required: the Zerobus sinks are built at start, so
// nothing changes in the running lanes. The secret's value is never logged, echoed, or
// written anywhere but the encrypted store. A body may not use ${env:} references (they
// would read the connector's environment into the configuration).
//
// Delivery: start/stop pause and resume every lane whose sink is zerobus
// (Pipeline::set_delivery_paused); run-time state, not saved.
//
// Threads: any; changes are serialized by one lock.
#pragma once

#include <mutex>
#include <string>

#include "api/zerobus_routes.h"
#include "app/managed_sources.h"
#include "app/running_config.h"
#include "config/loader.h"
#include "pipeline/pipeline.h"

namespace uc::app {

class LiveZerobus final : public api::ZerobusControl {
 public:
  static constexpr const char* kSecretName = "zerobus.client_secret";
  static constexpr const char* kSink = "zerobus";

  // All must outlive this object; managed may be null (no file to save to: POST config
  // answers UNAVAILABLE). Call after the managed file was loaded: the section it shows
  // then is taken as what runs.
  LiveZerobus(RunningConfig& config, pipeline::Pipeline& pipeline, ManagedSources* managed);

  nlohmann::json config() const override;
  Change set_config(const nlohmann::json& body) override;
  Result<nlohmann::json> set_delivery(bool running) override;

 private:
  // The body merged into `section`; the plain secret, if one was sent, in *secret.
  void merge(const nlohmann::json& body, YAML::Node& section, std::optional<std::string>* secret,
             Change& change) const;
  void check(const YAML::Node& section, const std::optional<std::string>& secret, Change& change) const;
  Status store_secret(const std::string& value) const;
  nlohmann::json view(const YAML::Node& section) const;

  RunningConfig& config_;
  pipeline::Pipeline& pipeline_;
  ManagedSources* managed_;
  config::Loader loader_;
  std::string running_section_;  // the section that runs, emitted
  std::mutex mu_set_;            // serializes set_config
  mutable std::mutex mu_;        // guards secret_changed_
  bool secret_changed_ = false;  // a secret other than the running one was stored
};

}  // namespace uc::app
