// YAML file → Config, with every error reported as file:line:col: key.path: message.
//
// Usage (app/ registers the protocols explicitly, house rule 2):
//   config::Loader loader;
//   loader.register_protocol("modbus", sources::modbus::parse_options);
//   LoadResult r = loader.load_file(path, &resolver);   // resolver may be null
//   if (!r.ok()) for (auto& e : r.errors) std::cerr << e.to_string() << '\n';
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/error.h"
#include "config/reader.h"
#include "config/secret.h"
#include "config/substitute.h"

namespace uc::config {

// Parses the protocol-specific keys of one entry of `sources:`. node is the whole
// source map; the parser must call node.check_keys(with_common_source_keys({...its
// own keys...})) and report problems through node (which writes into errors).
// Returns the options, or null when they are unusable.
using SourceParser = std::function<std::shared_ptr<const SourceOptions>(const Reader& node, Errors& errors)>;

// Keys every source accepts: name, protocol, endpoint, site, area, line,
// equipment, path_template, enabled.
const std::vector<std::string>& common_source_keys();
// common_source_keys() followed by own.
std::vector<std::string> with_common_source_keys(std::initializer_list<std::string> own);

// One entry of `sources:` on its own (Loader::load_source).
struct SourceLoadResult {
  std::optional<SourceConfig> source;  // set only when errors is empty
  std::vector<ConfigError> errors;     // key paths relative to the entry: "port", "tags[0].unit"
  bool ok() const { return source.has_value() && errors.empty(); }
};

// The `zerobus:` section on its own (Loader::load_zerobus).
struct ZerobusLoadResult {
  std::optional<ZerobusConfig> zerobus;  // set only when errors is empty
  std::vector<ConfigError> errors;       // key paths relative to the section: "auth.client_id"
  bool ok() const { return zerobus.has_value() && errors.empty(); }
};

struct LoadResult {
  std::optional<Config> config;     // set only when errors is empty
  std::vector<ConfigError> errors;  // sorted by position
  std::vector<ConfigError> notes;   // accepted, but worth a line (error.h); sorted by position
  bool ok() const { return config.has_value() && errors.empty(); }
};

class Loader {
 public:
  // Files larger than this are refused without being parsed.
  static constexpr std::size_t kMaxFileBytes = 16U * 1024U * 1024U;

  Loader();

  void register_protocol(std::string name, SourceParser parser);
  // Registered protocol names, sorted.
  std::vector<std::string> protocols() const;

  // Where ${env:NAME} is looked up; the process environment by default.
  void set_env_lookup(EnvLookup env);

  // Without a resolver, ${credential:} references stay unresolved (not an error).
  LoadResult load_file(const std::string& path, const CredentialResolver* resolver = nullptr) const;
  LoadResult load_string(std::string_view text, const std::string& file_name,
                         const CredentialResolver* resolver = nullptr) const;
  // One source entry (a map with the keys of a `sources:` item; JSON is YAML flow syntax,
  // so the API's request bodies come here), checked by exactly the code that checks it
  // inside a file, with the same messages. Whether the name is unique is the caller's
  // business; references to other sections (targets, mappings) are not checked here.
  SourceLoadResult load_source(std::string_view text, const std::string& file_name,
                               const CredentialResolver* resolver = nullptr) const;
  // A `zerobus:` section (a map, as YAML or JSON text), checked by the code that checks it
  // inside a file, against base's sources (source_targets must name them). For the API's
  // POST /api/zerobus/config and the managed file.
  ZerobusLoadResult load_zerobus(std::string_view text, const std::string& file_name, const Config& base,
                                 const CredentialResolver* resolver = nullptr) const;

 private:
  std::map<std::string, SourceParser, std::less<>> protocols_;
  EnvLookup env_;
};

}  // namespace uc::config
