#include "app/managed_sources.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/yaml_documents.h"
#include "config/yaml_tree.h"
#include "credentials/store.h"

namespace uc::app {

namespace {

constexpr std::size_t kMaxFileBytes = config::Loader::kMaxFileBytes;

constexpr const char* kHeader =
    "# Written by unified-connector: the sources added, changed or removed through its API.\n"
    "# Applied on top of the configuration file beside it at every start and reload: an entry\n"
    "# of `sources` replaces the file's source of that name or is added; `removed_sources`\n"
    "# drops the file's sources of those names; `zerobus` replaces the file's zerobus section\n"
    "# (its secret is a ${credential:} reference). Delete this file to go back to the file alone.\n";

config::ConfigError error_at(const std::string& path, const YAML::Mark& mark, std::string key, std::string message) {
  config::ConfigError e;
  e.file = path;
  e.line = mark.line >= 0 ? mark.line + 1 : 0;
  e.column = mark.column >= 0 ? mark.column + 1 : 0;
  e.key_path = std::move(key);
  e.message = std::move(message);
  return e;
}

// The file's single document, or an error.
std::optional<YAML::Node> read_document(const std::string& path, std::vector<config::ConfigError>& errors) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxFileBytes) {
    errors.push_back(error_at(path, YAML::Mark::null_mark(), "",
                              ec ? "cannot read: " + ec.message()
                                 : "larger than " + std::to_string(kMaxFileBytes) + " bytes; refusing to parse it"));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  try {
    auto docs = config::load_documents(text.str());
    if (docs.size() > 1) {
      errors.push_back(error_at(path, YAML::Mark::null_mark(), "", "holds more than one YAML document"));
      return std::nullopt;
    }
    return docs.empty() ? YAML::Node(YAML::NodeType::Map) : docs.front();
  } catch (const YAML::Exception& e) {
    errors.push_back(error_at(path, e.mark, "", "not valid YAML: " + e.msg));
    return std::nullopt;
  }
}

// The entries of `sources` as loaded sources, checked like API bodies; errors carry the
// entry's key path ("sources[2].port").
std::vector<config::SourceConfig> load_entries(const std::string& path, const YAML::Node& list,
                                               const config::Loader& loader,
                                               const config::CredentialResolver* resolver,
                                               std::vector<config::ConfigError>& errors) {
  std::vector<config::SourceConfig> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "sources[" + std::to_string(i) + "]";
    auto r = loader.load_source(YAML::Dump(list[i]), path, resolver);
    for (auto e : r.errors) {
      e.file = path;
      e.line = list[i].Mark().line + 1;
      e.column = list[i].Mark().column + 1;
      e.key_path = e.key_path.empty() ? where : where + "." + e.key_path;
      errors.push_back(std::move(e));
    }
    if (r.ok()) out.push_back(std::move(*r.source));
  }
  return out;
}

bool check_structure(const std::string& path, const YAML::Node& root, std::vector<config::ConfigError>& errors) {
  const auto before = errors.size();
  if (!root.IsMap()) {
    errors.push_back(error_at(path, root.Mark(), "", "must be a map with `sources`, `removed_sources`, `zerobus`"));
    return false;
  }
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>("");
    if (key != "sources" && key != "removed_sources" && key != "zerobus") {
      errors.push_back(
          error_at(path, kv.first.Mark(), key, "unknown key (expected sources, removed_sources, zerobus)"));
    }
  }
  if (root["zerobus"] && !root["zerobus"].IsMap()) {
    errors.push_back(error_at(path, root["zerobus"].Mark(), "zerobus", "must be a map (the zerobus section)"));
  }
  if (root["sources"] && !root["sources"].IsSequence()) {
    errors.push_back(error_at(path, root["sources"].Mark(), "sources", "must be a list of source entries"));
  }
  const YAML::Node removed = root["removed_sources"];
  if (removed && !removed.IsSequence()) {
    errors.push_back(error_at(path, removed.Mark(), "removed_sources", "must be a list of source names"));
  } else if (removed) {
    for (std::size_t i = 0; i < removed.size(); ++i) {
      if (!removed[i].IsScalar()) {
        errors.push_back(error_at(path, removed[i].Mark(), "removed_sources[" + std::to_string(i) + "]",
                                  "must be a source name"));
      }
    }
  }
  return errors.size() == before;
}

// The managed zerobus section in place of cfg.zerobus, checked against cfg's sources.
void apply_zerobus(const std::string& path, const YAML::Node& section, const config::Loader& loader,
                   const config::CredentialResolver* resolver, config::Config& cfg,
                   std::vector<config::ConfigError>& errors) {
  auto r = loader.load_zerobus(YAML::Dump(section), path, cfg, resolver);
  for (auto e : r.errors) {
    e.file = path;
    e.line = section.Mark().line + 1;
    e.column = section.Mark().column + 1;
    e.key_path = e.key_path.empty() ? "zerobus" : "zerobus." + e.key_path;
    errors.push_back(std::move(e));
  }
  if (r.ok()) cfg.zerobus = std::move(*r.zerobus);
}

}  // namespace

std::string ManagedSources::path_for(const std::string& config_path) {
  std::filesystem::path p(config_path);
  p.replace_extension(".api.yaml");
  return p.string();
}

void ManagedSources::apply(const std::string& path, const config::Loader& loader,
                           const config::CredentialResolver* resolver, config::Config& cfg,
                           std::vector<config::ConfigError>& errors, std::vector<config::ConfigError>& notes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  const auto root = read_document(path, errors);
  if (!root || !check_structure(path, *root, errors)) return;
  const auto before = errors.size();
  auto entries = root->operator[]("sources") ? load_entries(path, (*root)["sources"], loader, resolver, errors)
                                             : std::vector<config::SourceConfig>{};
  if (errors.size() != before) return;
  auto& sources = cfg.sources;
  if (const YAML::Node removed = (*root)["removed_sources"]) {
    for (const auto& item : removed) {
      const auto name = item.as<std::string>();
      const auto it = std::find_if(sources.begin(), sources.end(), [&](const auto& s) { return s.name == name; });
      if (it == sources.end()) {
        notes.push_back(error_at(path, item.Mark(), "removed_sources",
                                 "the configuration file has no source \"" + name + "\" any more; nothing to remove"));
      } else {
        sources.erase(it);
      }
    }
  }
  for (auto& entry : entries) {
    const auto it = std::find_if(sources.begin(), sources.end(), [&](const auto& s) { return s.name == entry.name; });
    if (it != sources.end()) {
      *it = std::move(entry);
    } else {
      sources.push_back(std::move(entry));
    }
  }
  if (const YAML::Node zerobus = (*root)["zerobus"]) apply_zerobus(path, zerobus, loader, resolver, cfg, errors);
}

ManagedSources::ManagedSources(const std::string& config_path)
    : config_path_(config_path), path_(path_for(config_path)) {}

Status ManagedSources::load() {
  std::lock_guard lock(mu_);
  entries_.clear();
  removed_.clear();
  file_names_.clear();
  file_zerobus_.clear();
  zerobus_.reset();
  if (Status s = read_file_parts(); !s.is_ok()) return s;
  std::vector<config::ConfigError> errors;
  remove_stale_temporaries();
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return Status::ok();
  const auto root = read_document(path_, errors);
  if (!root || !check_structure(path_, *root, errors)) return invalid_argument(errors.front().to_string());
  for (const auto& item : (*root)["sources"]) {
    entries_.push_back({item["name"].as<std::string>(""), YAML::Dump(item)});
  }
  for (const auto& item : (*root)["removed_sources"]) removed_.insert(item.as<std::string>());
  if ((*root)["zerobus"]) zerobus_ = YAML::Dump((*root)["zerobus"]);
  return Status::ok();
}

YAML::Node ManagedSources::zerobus_section() const {
  std::lock_guard lock(mu_);
  const std::string& text = zerobus_ ? *zerobus_ : file_zerobus_;
  if (text.empty()) return YAML::Node(YAML::NodeType::Map);
  return YAML::Load(text);
}

Status ManagedSources::set_zerobus(const YAML::Node& section) {
  std::lock_guard lock(mu_);
  const std::optional<std::string> before = zerobus_;
  zerobus_ = YAML::Dump(section);
  Status s = save();
  if (!s.is_ok()) zerobus_ = before;
  return s;
}

// A crash between creating the temporary file and renaming it leaves the temporary behind
// (".config.api.yaml.tmp-XXXXXX", credentials::write_file_atomically); the next start removes it.
void ManagedSources::remove_stale_temporaries() const {
  namespace fs = std::filesystem;
  const fs::path target(path_);
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  std::error_code ec;
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) fs::remove(entry.path(), ec);
  }
}

// From the configuration file: its sources' names and its zerobus section. The file is read
// as the compact tree (config/yaml_tree.h), not yaml-cpp's nodes: it may hold 200,000
// sources, and this runs at every start and reload.
Status ManagedSources::read_file_parts() {
  std::ifstream in(config_path_, std::ios::binary);
  if (!in) return invalid_argument("cannot read " + config_path_);
  std::stringstream text;
  text << in.rdbuf();
  std::shared_ptr<const config::YamlTree> tree;
  try {
    tree = config::YamlTree::parse(text.str());
  } catch (const YAML::Exception& e) {
    return invalid_argument(config_path_ + ": not valid YAML: " + e.msg);
  }
  if (tree->documents() == 0 || !tree->document(0).is_map()) return Status::ok();
  const config::YamlNode root = tree->document(0);
  for (std::size_t i = 0; i < root.size(); ++i) {
    const std::string_view key = root.key(i).is_scalar() ? root.key(i).scalar() : std::string_view();
    const config::YamlNode value = root.value(i);
    if (key == "zerobus" && value.is_map()) file_zerobus_ = config::emit_yaml(value);
    if (key != "sources" || !value.is_sequence()) continue;
    for (std::size_t j = 0; j < value.size(); ++j) {
      const config::YamlNode item = value.item(j);
      for (std::size_t k = 0; item.is_map() && k < item.size(); ++k) {
        if (item.key(k).is_scalar() && item.key(k).scalar() == "name" && item.value(k).is_scalar()) {
          file_names_.insert(std::string(item.value(k).scalar()));
        }
      }
    }
  }
  return Status::ok();
}

Status ManagedSources::upsert(const config::SourceConfig& source) {
  std::lock_guard lock(mu_);
  if (!source.document_tree) {
    return Status(StatusCode::kInternal, "source " + source.name + " has no document to save");
  }
  Entry entry{source.name, config::emit_yaml(source.document_tree->node(source.document_node))};
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == source.name; });
  if (it != entries_.end()) {
    *it = std::move(entry);
  } else {
    entries_.push_back(std::move(entry));
  }
  removed_.erase(source.name);
  return save();
}

Status ManagedSources::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; }),
                 entries_.end());
  if (file_names_.count(name) != 0) removed_.insert(name);
  return save();
}

// Each entry is re-read and emitted inside the list, so the file is one valid document
// whatever the entries' own formatting was.
std::string ManagedSources::render() const {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "sources" << YAML::Value << YAML::BeginSeq;
  for (const auto& e : entries_) out << YAML::Load(e.yaml);
  out << YAML::EndSeq << YAML::Key << "removed_sources" << YAML::Value << YAML::BeginSeq;
  for (const auto& name : removed_) out << name;
  out << YAML::EndSeq;
  if (zerobus_) out << YAML::Key << "zerobus" << YAML::Value << YAML::Load(*zerobus_);
  out << YAML::EndMap;
  return std::string(kHeader) + out.c_str() + "\n";
}

Status ManagedSources::save() const {
  return credentials::write_file_atomically(path_, render(), 0600);
}

}  // namespace uc::app
