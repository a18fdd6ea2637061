// Helpers shared by the config tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/registry.h"
#include "config/loader.h"

namespace uc::config::testing {

// A loader with every protocol of app/'s table registered and a fixed environment.
inline Loader make_loader(std::map<std::string, std::string> env = {}) {
  Loader loader;
  app::register_protocols(loader);
  loader.set_env_lookup([env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  return loader;
}

inline std::vector<std::string> messages(const LoadResult& result) {
  std::vector<std::string> out;
  for (const ConfigError& e : result.errors) out.push_back(e.to_string());
  return out;
}

inline std::vector<std::string> note_messages(const LoadResult& result) {
  std::vector<std::string> out;
  for (const ConfigError& e : result.notes) out.push_back(e.to_string());
  return out;
}

// The errors of a config text ("file:line:col: key: message").
inline std::vector<std::string> errors_of(const std::string& yaml) {
  return messages(make_loader().load_string(yaml, "c.yaml"));
}

// The parsed options of the config's first source, which must load without errors.
template <typename T>
std::shared_ptr<const T> first_source_options(const std::string& yaml) {
  const auto r = make_loader().load_string(yaml, "c.yaml");
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  if (!r.ok()) return nullptr;
  return std::dynamic_pointer_cast<const T>(r.config->sources.at(0).options);
}

}  // namespace uc::config::testing
