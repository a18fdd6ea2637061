// The normalizer: turns samples into records with an ISA-95 tag path, context, signal type,
// value forms and quality (SPEC §3). Pure code, no I/O. Configuration arrives as the plain
// Options below; the app maps the YAML config onto them.
//
// Context precedence, for each of site, area, line, equipment, tag_name, signal_type and unit
// (first non-empty value wins):
//   1. the per-tag mapping (Options::mappings, matched by source and address);
//   2. the sample's TagMeta (per-tag configuration carried by the source);
//   3. the named groups of the first rule whose pattern matches (Options::rules);
//   4. the source's context (SourceInfo::context; not for tag_name, signal_type or unit);
//   5. Options::defaults (not for tag_name, signal_type or unit).
// Rules beat the source context on purpose: a source says "this broker is plant1/production",
// a rule over "factory/<line>/<equipment>/<tag>" topics says which line and equipment each
// topic belongs to, which is more specific.
// Then: tag_name falls back to the last part of the address (see address_tag_name()); signal_type
// falls back to infer_signal_type(tag_name, unit). The record columns keep these values as
// they were given (unsanitized); only tag_path is sanitized.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/record.h"
#include "core/sample.h"
#include "core/status.h"
#include "normalize/path_template.h"
#include "normalize/quality.h"
#include "normalize/rule_field.h"
#include "normalize/rule.h"

namespace uc::normalize {

inline constexpr std::string_view kDefaultPathTemplate = "{site}/{area}/{line}/{equipment}/{signal_type}/{tag_name}";

struct Context {
  std::string site, area, line, equipment;
};


struct Rule {
  std::string protocol;  // empty = any; compared case-insensitively with SourceInfo::protocol
  std::string source;    // empty = any; compared exactly with SourceInfo::name
  RuleField field = RuleField::kAddress;
  std::string pattern;   // PCRE2; named groups: site area line equipment tag_name signal_type
                         // unit fill the context, any other named group becomes tag metadata
};

struct TagMapping {
  std::string source;   // empty = any source; a mapping naming the source wins over one that does not
  std::string address;  // exact Sample::address
  std::string tag_name, signal_type, unit, site, area, line, equipment;  // empty = not set
  std::optional<double> eng_low, eng_high;  // each bound falls back to TagMeta's on its own
};

struct Options {
  // false: rules and the template are not used; tag_path is the source name followed by the
  // address split on '/', each part sanitized ("plant1_mqtt/factory/line1/temp"). Context
  // columns, signal type and quality mapping work as when enabled.
  bool enabled = true;
  std::string path_template = std::string(kDefaultPathTemplate);
  Context defaults;
  std::vector<Rule> rules;
  std::vector<TagMapping> mappings;
  std::string connector_name;  // when set, tag metadata gets {"connector": name}
  // Per-normalizer cache of resolved tags. When it is full the whole cache is dropped and
  // rebuilt from new samples (counted by cache_flushes()); paths stay the same because they
  // depend only on the inputs and the PathRegistry, which keeps its claims.
  std::size_t max_cached_tags = 1'000'000;
};

struct SourceInfo {
  std::string name, protocol, endpoint;
  Context context;
  std::string path_template;  // per-source override; empty = Options::path_template
};

// Checks every rule's pattern and the template without building a normalizer, for `validate`.
// Errors name the rule ("normalization rule 2: invalid regular expression ...").
Status validate_options(const Options& options);

// The tag name an address implies when nothing names the tag: the text after the last '#'
// when there is one (a Sparkplug metric name, kept whole even if it contains '/'), else the
// last non-empty part after splitting on '/', '.', ':', ';' and '=' ("ns=2;s=Line1.Mixer.Speed" →
// "Speed", "ns=2;i=1234" → "1234", "factory/l1/m1/temp" → "temp", "1/holding/40001" → "40001").
std::string_view address_tag_name(std::string_view address);

// Two different (source, address) pairs producing the same tag path.
struct Collision {
  std::string wanted_path;    // the path both would have had
  std::string assigned_path;  // the path the newcomer got
  std::string source, address;              // the newcomer
  std::string owner_source, owner_address;  // who holds wanted_path
  std::string to_string() const;
};

// Decides which collision reports become log lines, so that a tree whose names repeat
// (thousands of collisions at start-up) gives a few lines rather than one per tag: the
// first `first_few` collisions are logged in full, the rest only counted, and summary()
// gives one line with the total whenever collisions were counted silently since the
// last summary (call it once per batch). Not thread-safe (one per normalizer).
class CollisionLog {
 public:
  explicit CollisionLog(std::size_t first_few = 3) : first_few_(first_few) {}
  // A new collision: the line to log now (Collision::to_string()), or empty when it is
  // only counted.
  std::string add(const Collision& c);
  // "N tags share a tag path with another; first: <the first collision>" when some were
  // counted without a line since the last call; else empty.
  std::string summary();
  std::uint64_t count() const { return count_; }

 private:
  std::size_t first_few_;
  std::uint64_t count_ = 0;
  std::uint64_t summarized_ = 0;  // count_ at the last summary
  std::string first_;
};

// Who owns which tag path, shared by all sources' normalizers. Thread-safe.
// The first (source, address) to claim a path keeps it; a later different pair gets
// path + "_" + hash_suffix(source + '\0' + address) (8 hex digits of FNV-1a; should that be
// taken too, "_2", "_3", ... are appended). So a path depends on the order in which tags are
// first seen only when a collision exists; collisions are reported so they can be fixed in
// the config. Each colliding pair is counted once (collisions()), however often it re-claims
// (after a cache flush, or from a new normalizer for the same source). Claims are never
// released. Past max_paths no new claims are recorded and new paths go unchecked (counted by
// unchecked()).
class PathRegistry {
 public:
  explicit PathRegistry(std::size_t max_paths = 4'000'000) : max_paths_(max_paths) {}

  struct Claim {
    std::string path;
    bool collided = false;    // path is not the one asked for
    bool first_time = false;  // collided, and this pair had not collided before (count and report it)
    std::string owner_source, owner_address;  // set when collided
  };
  Claim claim(const std::string& path, std::string_view source, std::string_view address);

  std::size_t size() const;
  std::uint64_t collisions() const;
  std::uint64_t unchecked() const;

 private:
  struct Owner {
    std::string source, address;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Owner> owners_;
  std::size_t max_paths_;
  std::uint64_t collisions_ = 0;
  std::uint64_t unchecked_ = 0;
};

// One per source. Not thread-safe: used by one thread at a time (the source's strand).
// Steady state is one hash lookup by address, the value conversions and a shared_ptr copy;
// rules, templates and the registry are consulted only the first time an address is seen
// (or when its TagMeta object changes).
class Normalizer {
 public:
  using CollisionHandler = std::function<void(const Collision&)>;

  // Errors (kInvalidArgument): an invalid rule pattern (PCRE2's message and offset), an
  // invalid template (unknown placeholder, unbalanced braces, empty segment). A null
  // registry gives the normalizer a private one.
  static Result<std::unique_ptr<Normalizer>> create(const Options& options, const SourceInfo& source,
                                                    std::shared_ptr<PathRegistry> registry);

  Record normalize(const Sample& sample, TimestampUs ingest_time);
  // The same record; the sample's per-sample metadata is moved into it, not copied.
  Record normalize(Sample&& sample, TimestampUs ingest_time);
  // Appends one record per sample to `out`.
  void normalize_batch(const SampleBatch& in, TimestampUs ingest_time, std::vector<Record>& out);
  // The same records; the samples' per-sample metadata is moved (the batch is consumed).
  void normalize_batch(SampleBatch&& in, TimestampUs ingest_time, std::vector<Record>& out);

  // The interned tag of a sample (resolving and caching it on first sight).
  const std::shared_ptr<const TagInfo>& tag_for(const Sample& sample);

  // Called on this normalizer's thread when this normalizer detects a new collision (once per
  // colliding (source, address) pair for the whole registry).
  void set_collision_handler(CollisionHandler handler) { on_collision_ = std::move(handler); }

  // New collisions this normalizer detected (see PathRegistry::collisions() for the total).
  std::uint64_t collisions() const { return collisions_; }
  std::size_t cache_size() const { return cache_.size(); }
  std::uint64_t cache_flushes() const { return cache_flushes_; }
  const SourceInfo& source() const { return source_; }

 private:
  struct Entry {
    std::shared_ptr<const TagInfo> tag;
    std::shared_ptr<const TagMeta> meta;  // identity of the meta the entry was built from
    std::optional<double> eng_low, eng_high;
  };
  struct CompiledRule {
    RuleField field;
    std::shared_ptr<const CompiledRegex> regex;
  };

  Normalizer() = default;
  const Entry& entry_for(const Sample& sample);
  Entry build_entry(const Sample& sample);
  // The record of `s`, with `metadata` (the sample's own, copied or moved) as its metadata.
  Record make_record(const Sample& s, TimestampUs ingest_time, KeyValues&& metadata);

  Options options_;
  SourceInfo source_;
  std::optional<PathTemplate> template_;
  std::vector<CompiledRule> rules_;  // only those that apply to this source, in config order
  std::unordered_map<std::string, const TagMapping*> mappings_;  // by address, into options_
  std::shared_ptr<PathRegistry> registry_;
  std::unordered_map<std::string, Entry> cache_;
  CollisionHandler on_collision_;
  std::uint64_t collisions_ = 0;
  std::uint64_t cache_flushes_ = 0;
  std::vector<CompiledRegex::Capture> captures_;  // scratch
};

}  // namespace uc::normalize
