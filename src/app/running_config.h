// The configuration the connector runs: one copy, one lock. Loaded from the file at start;
// changed at run time only through LiveSources (the API), so that GET shows what runs.
// What the API changes is also saved by LiveSources in the managed file (ADR 0008).
// Any thread; read() and update() hold the lock while their function runs, so keep it short.
#pragma once

#include <mutex>
#include <utility>

#include "config/config.h"

namespace uc::app {

class RunningConfig {
 public:
  explicit RunningConfig(config::Config cfg) : cfg_(std::move(cfg)) {}

  template <typename F>
  auto read(F&& f) const {
    std::lock_guard lock(mu_);
    return std::forward<F>(f)(static_cast<const config::Config&>(cfg_));
  }
  template <typename F>
  auto update(F&& f) {
    std::lock_guard lock(mu_);
    return std::forward<F>(f)(cfg_);
  }
  config::Config snapshot() const {
    std::lock_guard lock(mu_);
    return cfg_;
  }

 private:
  mutable std::mutex mu_;
  config::Config cfg_;
};

}  // namespace uc::app
