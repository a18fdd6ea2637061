#include "normalize/normalizer.h"

#include <utility>

#include "core/value.h"
#include "normalize/sanitize.h"
#include "normalize/signal_type.h"

namespace uc::normalize {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool rule_applies(const Rule& rule, const SourceInfo& source) {
  return (rule.protocol.empty() || iequals(rule.protocol, source.protocol)) &&
         (rule.source.empty() || rule.source == source.name);
}

Status rule_error(std::size_t index, const Status& st) {
  return invalid_argument("normalization rule " + std::to_string(index + 1) + ": " + st.message());
}

// First non-empty of the candidates.
std::string_view first_set(std::initializer_list<std::string_view> candidates) {
  for (std::string_view c : candidates) {
    if (!c.empty()) return c;
  }
  return {};
}

std::string_view capture(const std::vector<CompiledRegex::Capture>& caps, std::string_view name) {
  for (const auto& c : caps) {
    if (c.name == name && !c.value.empty()) return c.value;
  }
  return {};
}

void set_kv(KeyValues& kv, std::string_view key, std::string value) {
  for (auto& [k, v] : kv) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv.emplace_back(std::string(key), std::move(value));
}

bool is_context_group(std::string_view name) {
  for (std::string_view g : kRuleGroupNames) {
    if (g == name) return true;
  }
  return false;
}

std::string disabled_path(std::string_view source, std::string_view address) {
  std::string path = sanitize_segment(source);
  bool any = false;
  std::size_t start = 0;
  while (start <= address.size()) {
    std::size_t end = address.find('/', start);
    if (end == std::string_view::npos) end = address.size();
    if (end > start) {
      path.push_back('/');
      path += sanitize_segment(address.substr(start, end - start));
      any = true;
    }
    start = end + 1;
  }
  if (!any) path += "/unknown";
  return path;
}

std::string range_reason(double value, const std::optional<double>& low, const std::optional<double>& high) {
  std::string r = "value ";
  append_double(r, value);
  r += " outside engineering range [";
  if (low) {
    append_double(r, *low);
  } else {
    r += "-inf";
  }
  r += ", ";
  if (high) {
    append_double(r, *high);
  } else {
    r += "inf";
  }
  r += "]";
  return r;
}

}  // namespace

std::string_view address_tag_name(std::string_view address) {
  const std::size_t hash = address.rfind('#');
  if (hash != std::string_view::npos && hash + 1 < address.size()) return address.substr(hash + 1);
  constexpr std::string_view kSeparators = "/.:;#=";
  std::size_t end = address.find_last_not_of(kSeparators);
  if (end == std::string_view::npos) return {};
  const std::size_t sep = address.find_last_of(kSeparators, end);
  const std::size_t begin = sep == std::string_view::npos ? 0 : sep + 1;
  return address.substr(begin, end + 1 - begin);
}

std::string Collision::to_string() const {
  return "tag path collision: " + source + " " + address + " and " + owner_source + " " + owner_address +
         " both map to \"" + wanted_path + "\"; " + source + " " + address + " gets \"" + assigned_path + "\"";
}

std::string CollisionLog::add(const Collision& c) {
  ++count_;
  if (count_ == 1) first_ = c.to_string();
  if (count_ > first_few_) return {};
  summarized_ = count_;  // logged in full: nothing to summarize yet
  return count_ == 1 ? first_ : c.to_string();
}

std::string CollisionLog::summary() {
  if (count_ == summarized_) return {};
  summarized_ = count_;
  return std::to_string(count_) + (count_ == 1 ? " tag shares" : " tags share") +
         " a tag path with another; first: " + first_;
}

Status validate_options(const Options& options) {
  for (std::size_t i = 0; i < options.rules.size(); ++i) {
    auto re = CompiledRegex::compile(options.rules[i].pattern);
    if (!re) return rule_error(i, re.status());
  }
  auto t = PathTemplate::parse(options.path_template);
  if (!t) return t.status();
  return Status::ok();
}

// --- PathRegistry ---

PathRegistry::Claim PathRegistry::claim(const std::string& path, std::string_view source, std::string_view address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto owned_by_caller = [&](const Owner& o) { return o.source == source && o.address == address; };
  auto it = owners_.find(path);
  if (it == owners_.end()) {
    if (owners_.size() >= max_paths_) {
      ++unchecked_;
    } else {
      owners_.emplace(path, Owner{std::string(source), std::string(address)});
    }
    Claim c;
    c.path = path;
    return c;
  }
  if (owned_by_caller(it->second)) {
    Claim c;
    c.path = path;
    return c;
  }

  Claim c;
  c.collided = true;
  c.owner_source = it->second.source;
  c.owner_address = it->second.address;
  std::string key(source);
  key.push_back('\0');
  key += address;
  const std::string base = path + "_" + hash_suffix(key);
  std::string candidate = base;
  for (int n = 2;; ++n) {
    auto cit = owners_.find(candidate);
    if (cit == owners_.end()) {
      if (owners_.size() >= max_paths_) {
        ++unchecked_;
      } else {
        owners_.emplace(candidate, Owner{std::string(source), std::string(address)});
      }
      c.first_time = true;
      ++collisions_;
      break;
    }
    if (owned_by_caller(cit->second)) break;  // known collision, claimed before
    candidate = base + "_" + std::to_string(n);
  }
  c.path = std::move(candidate);
  return c;
}

std::size_t PathRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return owners_.size();
}

std::uint64_t PathRegistry::collisions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return collisions_;
}

std::uint64_t PathRegistry::unchecked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unchecked_;
}

// --- Normalizer ---

Result<std::unique_ptr<Normalizer>> Normalizer::create(const Options& options, const SourceInfo& source,
                                                       std::shared_ptr<PathRegistry> registry) {
  std::unique_ptr<Normalizer> n(new Normalizer());
  n->options_ = options;
  n->source_ = source;
  n->registry_ = registry ? std::move(registry) : std::make_shared<PathRegistry>();

  // The connector-wide template is checked even when the source overrides it: it is config.
  auto global = PathTemplate::parse(options.path_template);
  if (!global) return global.status();
  if (source.path_template.empty()) {
    n->template_ = std::move(global).value();
  } else {
    auto own = PathTemplate::parse(source.path_template);
    if (!own) return invalid_argument("source " + source.name + ": " + own.status().message());
    n->template_ = std::move(own).value();
  }

  for (std::size_t i = 0; i < options.rules.size(); ++i) {
    const Rule& rule = options.rules[i];
    auto re = CompiledRegex::compile(rule.pattern);
    if (!re) return rule_error(i, re.status());
    if (rule_applies(rule, source)) n->rules_.push_back({rule.field, std::move(re).value()});
  }

  for (const TagMapping& m : n->options_.mappings) {
    if (!m.source.empty() && m.source != source.name) continue;
    auto [it, inserted] = n->mappings_.emplace(m.address, &m);
    // A mapping naming this source beats a wildcard one; among equals the first wins.
    if (!inserted && it->second->source.empty() && !m.source.empty()) it->second = &m;
  }
  return n;
}

Normalizer::Entry Normalizer::build_entry(const Sample& s) {
  static const TagMapping kNoMapping;
  static const TagMeta kNoMeta;
  const auto mit = mappings_.find(s.address);
  const TagMapping& map = mit == mappings_.end() ? kNoMapping : *mit->second;
  const TagMeta& meta = s.meta ? *s.meta : kNoMeta;

  captures_.clear();
  if (options_.enabled) {
    for (const CompiledRule& rule : rules_) {
      const std::string_view subject = rule.field == RuleField::kAddress ? std::string_view(s.address)
                                                                         : std::string_view(meta.name_path);
      if (rule.field == RuleField::kNamePath && subject.empty()) continue;
      if (rule.regex->match(subject, captures_)) break;
      captures_.clear();
    }
  }
  const auto& caps = captures_;
  const Context& src = source_.context;
  const Context& def = options_.defaults;

  auto info = std::make_shared<TagInfo>();
  info->source_name = source_.name;
  info->protocol = source_.protocol;
  info->endpoint = source_.endpoint;
  info->address = s.address;
  info->site = first_set({map.site, meta.site, capture(caps, "site"), src.site, def.site});
  info->area = first_set({map.area, meta.area, capture(caps, "area"), src.area, def.area});
  info->line = first_set({map.line, meta.line, capture(caps, "line"), src.line, def.line});
  info->equipment = first_set({map.equipment, meta.equipment, capture(caps, "equipment"), src.equipment, def.equipment});
  info->tag_name = first_set({map.tag_name, meta.tag_name, capture(caps, "tag_name"), address_tag_name(s.address)});
  info->unit = first_set({map.unit, meta.unit, capture(caps, "unit")});
  info->signal_type = first_set({map.signal_type, meta.signal_type, capture(caps, "signal_type")});
  if (info->signal_type.empty()) info->signal_type = infer_signal_type(info->tag_name, info->unit);

  std::string path;
  if (options_.enabled) {
    PathValues values{};
    values[static_cast<std::size_t>(Placeholder::kSite)] = info->site;
    values[static_cast<std::size_t>(Placeholder::kArea)] = info->area;
    values[static_cast<std::size_t>(Placeholder::kLine)] = info->line;
    values[static_cast<std::size_t>(Placeholder::kEquipment)] = info->equipment;
    values[static_cast<std::size_t>(Placeholder::kSignalType)] = info->signal_type;
    values[static_cast<std::size_t>(Placeholder::kTagName)] = info->tag_name;
    values[static_cast<std::size_t>(Placeholder::kSource)] = source_.name;
    values[static_cast<std::size_t>(Placeholder::kProtocol)] = source_.protocol;
    path = template_->render(values);
  } else {
    path = disabled_path(source_.name, s.address);
  }
  PathRegistry::Claim claim = registry_->claim(path, source_.name, s.address);
  if (claim.collided && claim.first_time) {
    ++collisions_;
    if (on_collision_) {
      on_collision_(Collision{path, claim.path, source_.name, s.address, claim.owner_source, claim.owner_address});
    }
  }
  info->tag_path = std::move(claim.path);

  info->metadata = meta.metadata;
  if (!meta.description.empty()) set_kv(info->metadata, "description", meta.description);
  if (!meta.data_type.empty()) set_kv(info->metadata, "data_type", meta.data_type);
  for (const auto& c : caps) {
    if (!is_context_group(c.name)) set_kv(info->metadata, c.name, c.value);
  }
  if (!options_.connector_name.empty()) set_kv(info->metadata, "connector", options_.connector_name);

  Entry e;
  e.tag = std::move(info);
  e.meta = s.meta;
  e.eng_low = map.eng_low ? map.eng_low : meta.eng_low;
  e.eng_high = map.eng_high ? map.eng_high : meta.eng_high;
  return e;
}

const Normalizer::Entry& Normalizer::entry_for(const Sample& s) {
  auto it = cache_.find(s.address);
  if (it != cache_.end() && it->second.meta == s.meta) return it->second;
  Entry e = build_entry(s);
  if (it != cache_.end()) {
    it->second = std::move(e);
    return it->second;
  }
  if (cache_.size() >= options_.max_cached_tags) {
    cache_.clear();
    ++cache_flushes_;
  }
  return cache_.emplace(s.address, std::move(e)).first->second;
}

const std::shared_ptr<const TagInfo>& Normalizer::tag_for(const Sample& sample) { return entry_for(sample).tag; }

Record Normalizer::normalize(const Sample& s, TimestampUs ingest_time) {
  return make_record(s, ingest_time, KeyValues(s.metadata));
}

Record Normalizer::normalize(Sample&& s, TimestampUs ingest_time) {
  return make_record(s, ingest_time, std::move(s.metadata));
}

Record Normalizer::make_record(const Sample& s, TimestampUs ingest_time, KeyValues&& metadata) {
  const Entry& e = entry_for(s);
  Record r;
  r.event_time = s.source_time.value_or(s.receive_time);
  r.ingest_time = ingest_time;
  r.tag = e.tag;
  r.value_type = kind_of(s.value);
  double num = 0;
  const bool numeric = value_to_double(s.value, &num);
  if (numeric) r.value_num = num;
  if (r.value_type == ValueKind::kBool) r.value_bool = std::get<bool>(s.value);
  r.value_str = value_to_text(s.value);

  QualityResult q = map_quality(s.status);
  if (q.quality == Quality::kGood && numeric && r.value_type != ValueKind::kBool &&
      ((e.eng_low && num < *e.eng_low) || (e.eng_high && num > *e.eng_high))) {
    q.quality = Quality::kUncertain;
    q.status_code = opcua_status::kUncertainEngineeringUnitsExceeded;
    q.reason = range_reason(num, e.eng_low, e.eng_high);
  }
  r.quality = q.quality;
  r.status_code = q.status_code;
  r.metadata = std::move(metadata);
  if (q.quality != Quality::kGood && !q.reason.empty()) r.metadata.emplace_back("quality_reason", std::move(q.reason));
  return r;
}

void Normalizer::normalize_batch(const SampleBatch& in, TimestampUs ingest_time, std::vector<Record>& out) {
  out.reserve(out.size() + in.size());
  for (const Sample& s : in) out.push_back(normalize(s, ingest_time));
}

void Normalizer::normalize_batch(SampleBatch&& in, TimestampUs ingest_time, std::vector<Record>& out) {
  out.reserve(out.size() + in.size());
  for (Sample& s : in) out.push_back(normalize(std::move(s), ingest_time));
}

}  // namespace uc::normalize
