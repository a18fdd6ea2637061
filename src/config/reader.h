// Typed, error-collecting access to a YAML node (house rule 4: validate when
// building; unknown keys are errors).
//
// A Reader is a YAML node plus where it is (file, key path, mark). Every getter
// records a ConfigError in the shared Errors and returns nullopt/the default
// instead of throwing, so that one load reports every problem. Readers are cheap
// values; they refer to a ReadContext that must outlive them (the Loader owns it
// for the duration of a load).
//
// Null values (`key:` or `key: ~`) count as absent for the optional getters and
// are reported by the required ones. Scalar values go through ${env:NAME}
// substitution before conversion (see substitute.h); get_secret() also accepts
// ${credential:NAME}.
//
// Messages are stable; tests compare them verbatim:
//   missing required key "name"
//   unknown key "prot"; did you mean "port"?
//   expected an integer, got "abc"      expected an integer, got a map
//   must be between 1 and 65535, got 70000      must be at least 10, got 5
//   expected one of block | oldest | newest, got "fifo"
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/mark.h>

#include "config/error.h"
#include "config/secret.h"
#include "config/substitute.h"
#include "config/yaml_tree.h"

namespace uc::config {

struct ReadContext {
  std::string file;
  Errors* errors = nullptr;
  const CredentialResolver* resolver = nullptr;  // null: credential references stay unresolved
  EnvLookup env;                                 // null: every ${env:} is "not set"
  // 0-based (line, column) of scalars the loader rewrote from ${X} to '$X'
  // (see flow_references.h); their text is read back as ${X}. Shared, so that a
  // copy of the context (peek_string) costs nothing however many there are.
  std::shared_ptr<const std::set<std::pair<int, int>>> rewritten_references;
  // When set, the key path of every value read as a secret (as_secret), so that the
  // document of a source can be shown with its secrets masked.
  std::set<std::string>* secret_paths = nullptr;
  // The tree the readers read, for what keeps a node beyond the load (a source's document).
  std::shared_ptr<const YamlTree> tree;
};

class Reader {
 public:
  static constexpr std::int64_t kMinInt = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

  Reader(const ReadContext& context, YamlNode node, std::string path, YAML::Mark mark);
  // The document root: path "", mark of the node.
  static Reader root(const ReadContext& context, const YamlNode& node);

  const YamlNode& node() const { return node_; }
  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }
  Location location() const;
  const std::string& file() const { return context_->file; }
  Errors& errors() const { return *context_->errors; }
  const ReadContext& context() const { return *context_; }

  bool is_map() const { return node_.is_map(); }
  bool is_list() const { return node_.is_sequence(); }
  bool is_scalar() const { return node_.is_scalar(); }
  bool is_null() const { return node_.is_null(); }
  // "a map", "a list", "null" or the quoted scalar, for "expected X, got Y".
  std::string describe() const;

  // --- errors -----------------------------------------------------------------
  // At this node.
  void error(std::string message) const;
  // At the value of key when present (path "<this>.<key>"), else at this node.
  void error_at(std::string_view key, std::string message) const;
  // `missing required key "key"` at this node.
  void missing(std::string_view key) const;
  // A note (error.h) at this node, or at the value of key.
  void note(std::string message) const;
  void note_at(std::string_view key, std::string message) const;

  // Reports every key of this map that is not in allowed, at the key's own mark:
  // `unknown key "x"` plus `; did you mean "y"?` when an allowed key is within
  // edit distance 2. Also reports duplicate keys and non-scalar keys. Does nothing
  // if this node is not a map.
  void check_keys(const std::vector<std::string>& allowed) const;

  // --- structure --------------------------------------------------------------
  bool has(std::string_view key) const;  // present, even if null
  // The value of key, without any check; nullopt when absent.
  std::optional<Reader> child(std::string_view key) const;
  // key's value when it is a map; absent/null → nullopt; other → error + nullopt.
  std::optional<Reader> get_object(std::string_view key) const;
  std::optional<Reader> require_object(std::string_view key) const;
  // This node as a list; null → empty; not a list → error + empty.
  std::vector<Reader> items() const;
  // key's value as a list (path "key[i]"); absent/null → empty.
  std::vector<Reader> get_list(std::string_view key) const;
  // This node as a map: its entries in file order, values with path "<this>.<key>";
  // null → empty; not a map → error + empty. Non-scalar keys are reported.
  struct Entry;
  std::vector<Entry> entries() const;
  // The mark of key's key token, or this node's mark when key is absent.
  YAML::Mark key_mark(std::string_view key) const;

  // --- conversions of this node ---------------------------------------------------
  std::optional<std::string> as_string() const;
  std::optional<bool> as_bool() const;  // true/false (also yes/no, on/off)
  std::optional<std::int64_t> as_int(std::int64_t min = kMinInt, std::int64_t max = kMaxInt) const;
  std::optional<double> as_double() const;
  std::optional<std::string> as_enum(const std::vector<std::string>& allowed) const;
  Secret as_secret() const;

  // --- keyed getters ----------------------------------------------------------------
  std::optional<std::string> get_string(std::string_view key) const;
  std::string get_string(std::string_view key, std::string fallback) const;
  std::optional<std::string> require_string(std::string_view key) const;

  std::optional<bool> get_bool(std::string_view key) const;
  bool get_bool(std::string_view key, bool fallback) const;

  std::optional<std::int64_t> get_int(std::string_view key, std::int64_t min = kMinInt,
                                      std::int64_t max = kMaxInt) const;
  std::int64_t get_int_or(std::string_view key, std::int64_t fallback, std::int64_t min = kMinInt,
                          std::int64_t max = kMaxInt) const;
  std::optional<std::int64_t> require_int(std::string_view key, std::int64_t min = kMinInt,
                                          std::int64_t max = kMaxInt) const;

  std::optional<double> get_double(std::string_view key) const;
  double get_double(std::string_view key, double fallback) const;

  std::optional<std::string> get_enum(std::string_view key, const std::vector<std::string>& allowed) const;
  std::string get_enum(std::string_view key, const std::vector<std::string>& allowed, std::string fallback) const;

  // Maps the allowed names to enum values; table order is the order in messages.
  template <typename E>
  E get_enum(std::string_view key, const std::vector<std::pair<std::string, E>>& table, E fallback) const {
    std::vector<std::string> names;
    names.reserve(table.size());
    for (const auto& entry : table) names.push_back(entry.first);
    const std::optional<std::string> name = get_enum(key, names);
    if (!name) return fallback;
    for (const auto& entry : table) {
      if (entry.first == *name) return entry.second;
    }
    return fallback;
  }

  Secret get_secret(std::string_view key) const;

  // Lists of scalars; bad items are reported and skipped.
  std::vector<std::string> get_string_list(std::string_view key) const;
  std::vector<std::int64_t> get_int_list(std::string_view key, std::int64_t min = kMinInt,
                                         std::int64_t max = kMaxInt) const;

  // The scalar as written in the file (before substitution).
  std::string raw_scalar() const;
  // The scalar after ${env:} substitution, or nullopt with the problem reported.
  std::optional<std::string> scalar_text(std::string_view expected) const;
  // key's string value without reporting anything (for a protocol parser that
  // re-reads a common key the loader has already checked).
  std::optional<std::string> peek_string(std::string_view key) const;

 private:
  std::string child_path(std::string_view key) const;
  // The value of key and its key's mark.
  std::optional<std::pair<YamlNode, YAML::Mark>> find(std::string_view key) const;
  // Present and not null.
  std::optional<Reader> present(std::string_view key) const;

  const ReadContext* context_;
  YamlNode node_;
  std::string path_;
  YAML::Mark mark_;
};

struct Reader::Entry {
  std::string key;
  YAML::Mark key_mark;  // where the key is written
  Reader value;
};

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);
// The allowed value closest to key within distance 2, if any.
std::optional<std::string> closest_match(std::string_view key, const std::vector<std::string>& allowed);
// "\"text\"" with control characters escaped and long values cut at 80 characters.
std::string quote(std::string_view text);
// "a | b | c"
std::string join(const std::vector<std::string>& items, std::string_view separator);

}  // namespace uc::config
