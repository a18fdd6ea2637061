// The sources changed through the API, saved beside the user's configuration file and
// applied on top of it at every load (run, validate, read, reload). ADR 0008.
//
// The user's file is never written. Beside `config.yaml` the connector keeps
// `config.api.yaml`:
//
//   # Written by unified-connector ... (a header that says what the file is)
//   sources:            # entries added or changed through the API, as they were sent
//     - {name: plc9, protocol: modbus, ...}
//   removed_sources:    # names of the file's sources that the API removed
//     - plc2
//   zerobus:            # the zerobus section as POST /api/zerobus/config left it (optional)
//     {enabled: true, ..., auth: {client_id: x, client_secret: ${credential:zerobus.client_secret}}}
//
// On load, an entry of `sources` replaces the file's source of the same name in place, or
// is appended; `removed_sources` drops the file's sources of those names (a name the file
// no longer has is a note, not an error). Entries are checked by Loader::load_source, the
// code that checks the API's bodies; an error names this file and the entry. A `zerobus`
// section replaces the file's whole `zerobus:` section (checked by Loader::load_zerobus
// against the resulting sources); the API writes it with secrets only as credential
// references, never in plain text.
//
// Writes are atomic (credentials::write_file_atomically: temp file, fsync, rename, fsync of
// the directory; mode 0600, since entries may hold secrets as the user sent them): a crash
// leaves the old or the new file.
// Start and stop through the API are run-time state and are not saved; `enabled: false`
// in a PUT is.
//
// Threads: thread-safe (one lock): LiveSources and LiveZerobus change it from API workers.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/error.h"
#include "config/loader.h"
#include "core/status.h"

namespace uc::app {

class ManagedSources {
 public:
  // "dir/config.yaml" -> "dir/config.api.yaml" (any extension is replaced).
  static std::string path_for(const std::string& config_path);

  // Applies the file at `path`, if it exists, to cfg.sources. Errors (unreadable file,
  // bad structure, an entry the loader refuses) and notes go to the vectors; cfg is
  // changed only when there is no error.
  static void apply(const std::string& path, const config::Loader& loader,
                    const config::CredentialResolver* resolver, config::Config& cfg,
                    std::vector<config::ConfigError>& errors, std::vector<config::ConfigError>& notes);

  // The saver for a running connector started from config_path.
  explicit ManagedSources(const std::string& config_path);

  // Reads the managed file's entries (a missing file is empty) and the names of the
  // configuration file's own sources (a removal is remembered only for those). At start
  // and at every reload. Removes temporary files a crash left mid-save.
  Status load();
  // Records a change and saves the file atomically.
  Status upsert(const config::SourceConfig& source);
  Status remove(const std::string& name);
  // The zerobus section in effect at the next start: the managed file's, else the
  // configuration file's (as written, references unexpanded); an empty map when neither.
  YAML::Node zerobus_section() const;
  // Saves `section` as the managed file's zerobus section.
  Status set_zerobus(const YAML::Node& section);

  const std::string& path() const { return path_; }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return entries_.size() + removed_.size();
  }

 private:
  struct Entry {
    std::string name;
    std::string yaml;  // the entry's document, emitted
  };
  Status save() const;
  Status read_file_parts();
  void remove_stale_temporaries() const;
  std::string render() const;

  mutable std::mutex mu_;  // every field below
  std::string config_path_;
  std::string path_;
  std::set<std::string> file_names_;
  std::vector<Entry> entries_;
  std::set<std::string> removed_;
  std::string file_zerobus_;                // the configuration file's section, emitted ("" none)
  std::optional<std::string> zerobus_;      // the managed file's section, emitted
};

}  // namespace uc::app
