#include "app/live_sources.h"

#include <algorithm>

#include "app/registry.h"
#include "app/source_probe.h"
#include "config/source_document.h"
#include "config/yaml_tree.h"
#include "credentials/resolver.h"
#include "normalize/config.h"
#include "pipeline/metrics.h"
#include "pipeline/router.h"

namespace uc::app {
namespace {

const config::SourceConfig* find(const std::vector<config::SourceConfig>& sources, const std::string& name) {
  auto it = std::find_if(sources.begin(), sources.end(), [&](const config::SourceConfig& s) { return s.name == name; });
  return it == sources.end() ? nullptr : &*it;
}

// The pipeline's status entry of a source, null when it is not in the pipeline.
nlohmann::json status_entry(const nlohmann::json& status, const std::string& name) {
  for (const auto& s : status["sources"]) {
    if (s["name"] == name) return s;
  }
  return nullptr;
}

// The same entry as written: the same document (a source made in code has none: differs).
bool same_entry(const config::SourceConfig& a, const config::SourceConfig& b) {
  return a.document_tree && b.document_tree &&
         config::emit_yaml(a.document_tree->node(a.document_node)) ==
             config::emit_yaml(b.document_tree->node(b.document_node));
}

}  // namespace

LiveSources::LiveSources(RunningConfig& config, pipeline::Pipeline& pipeline, telemetry::MetricsRegistry& metrics)
    : config_(config), pipeline_(pipeline), metrics_(metrics) {
  register_protocols(loader_);
  // A request body must not read the connector's environment: a ${env:NAME} in any field
  // would otherwise come back in a validation message. Every NAME reads as unset here.
  loader_.set_env_lookup([](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

Result<std::unique_ptr<LiveSources>> LiveSources::create(RunningConfig& config, pipeline::Pipeline& pipeline,
                                                         telemetry::MetricsRegistry& metrics) {
  std::unique_ptr<LiveSources> live(new LiveSources(config, pipeline, metrics));
  live->norm_ = config.read([](const config::Config& c) { return normalize::options_from(c); });
  if (Status s = normalize::validate_options(live->norm_); !s.is_ok()) {
    return Status(s.code(), "normalization: " + s.message());
  }
  return live;
}

Result<LiveSources::Built> LiveSources::build(const config::SourceConfig& s) const {
  auto source = build_source(s);
  if (!source.is_ok()) return source.status();
  auto normalizer = normalize::Normalizer::create(norm_, normalize::source_info_from(s), paths_);
  if (!normalizer.is_ok()) {
    return Status(normalizer.status().code(), "source " + s.name + ": " + normalizer.status().message());
  }
  return Built{std::move(source).value(), std::move(normalizer).value()};
}

Status LiveSources::put_in_pipeline(const config::SourceConfig& s) {
  const std::string target =
      config_.read([&](const config::Config& c) { return pipeline::Router::from_config(c).target_for(s.name); });
  const auto lanes = pipeline_.lanes();
  if (std::none_of(lanes.begin(), lanes.end(), [&](const pipeline::Lane* l) { return l->target() == target; })) {
    return Status(StatusCode::kFailedPrecondition, "source " + s.name + " routes to target " + target +
                                                       ", which has no lane in this run (targets are fixed at start)");
  }
  auto built = build(s);
  if (!built.is_ok()) return built.status();
  Status added = pipeline_.add_source(std::move(built->source), std::move(built->normalizer), {target}, s.protocol,
                                      pipeline::runtime_options_from(s));
  if (added.is_ok() && bind_metrics_) (void)pipeline::bind_source_metrics(pipeline_, s.name, metrics_);
  return added;
}

Status LiveSources::add_configured(const config::SourceConfig& s) {
  std::lock_guard lock(mu_);
  Status st = put_in_pipeline(s);
  return st.code() == StatusCode::kUnimplemented ? Status::ok() : st;
}

void LiveSources::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

// ---- views ----

nlohmann::json LiveSources::view(const config::SourceConfig& s, const nlohmann::json& status) const {
  const nlohmann::json entry = status_entry(status, s.name);
  nlohmann::json v = {{"name", s.name}, {"protocol", s.protocol}, {"enabled", s.enabled}};
  nlohmann::json counters = pipeline::counters_json(pipeline::SourceCounters{});
  if (entry.is_null()) {
    v["state"] = !s.enabled ? "disabled" : check_source(s).is_ok() ? "stopped" : "unavailable";
    v["last_error"] = s.enabled ? check_source(s).message() : std::string();
    v["last_error_at"] = nullptr;
    v["targets"] = nlohmann::json::array();
  } else {
    v["state"] = entry["state"];
    v["last_error"] = entry["last_error"];
    v["last_error_at"] = entry.value("last_error_at", nlohmann::json());
    v["targets"] = entry["targets"];
    for (auto& [key, value] : counters.items()) value = entry.value(key, value);
  }
  v["counters"] = std::move(counters);
  v["config"] = config::source_document(s);
  return v;
}

std::vector<nlohmann::json> LiveSources::list() const {
  const auto sources = config_.read([](const config::Config& c) { return c.sources; });
  const nlohmann::json status = pipeline_.status();
  std::vector<nlohmann::json> out;
  out.reserve(sources.size());
  for (const auto& s : sources) out.push_back(view(s, status));
  return out;
}

std::optional<nlohmann::json> LiveSources::view_of(const std::string& name) const {
  auto source = config_.read([&](const config::Config& c) -> std::optional<config::SourceConfig> {
    const auto* s = find(c.sources, name);
    return s == nullptr ? std::nullopt : std::optional<config::SourceConfig>(*s);
  });
  if (!source) return std::nullopt;
  return view(*source, pipeline_.status());
}

std::optional<nlohmann::json> LiveSources::get(const std::string& name) const { return view_of(name); }

// ---- changes ----

// "saved": whether the change is in the managed file (true without one: nothing to save).
// A change that runs but could not be saved is kept running and reported, not undone.
void LiveSources::note_saved(nlohmann::json& view, const Status& saved) const {
  view["saved"] = saved.is_ok();
  if (saved.is_ok()) return;
  view["save_error"] = saved.message();
  spdlog::error("source change applied but not saved to {}: {}", managed_ ? managed_->path() : "", saved.to_string());
}

// One source of a reload, with mu_ held: current is its running entry (null: new).
Status LiveSources::reload_one(const config::SourceConfig* current, const config::SourceConfig& wanted) {
  if (current == nullptr) return wanted.enabled ? put_in_pipeline(wanted) : Status::ok();
  if (current->protocol == wanted.protocol) return apply_replacement(wanted);
  if (in_pipeline(wanted.name)) {
    if (Status st = pipeline_.remove_source(wanted.name, std::chrono::milliseconds(0));
        !st.is_ok() && st.code() != StatusCode::kDeadlineExceeded) {
      return st;
    }
  }
  return wanted.enabled ? put_in_pipeline(wanted) : Status::ok();
}

Result<nlohmann::json> LiveSources::apply_sources(const std::vector<config::SourceConfig>& wanted) {
  std::lock_guard lock(mu_);
  if (closed_) return unavailable("the connector is stopping");
  const auto current = config_.read([](const config::Config& c) { return c.sources; });
  nlohmann::json out = {{"added", nlohmann::json::array()},   {"changed", nlohmann::json::array()},
                        {"removed", nlohmann::json::array()}, {"unchanged", 0},
                        {"failed", nlohmann::json::array()}};
  for (const auto& c : current) {
    if (find(wanted, c.name) != nullptr) continue;
    if (in_pipeline(c.name)) (void)pipeline_.remove_source(c.name, std::chrono::milliseconds(0));
    out["removed"].push_back(c.name);
  }
  std::vector<config::SourceConfig> running;
  for (const auto& w : wanted) {
    const config::SourceConfig* c = find(current, w.name);
    if (c != nullptr && same_entry(*c, w)) {
      out["unchanged"] = out["unchanged"].get<int>() + 1;
      running.push_back(*c);
      continue;
    }
    if (Status st = reload_one(c, w); !st.is_ok()) {
      out["failed"].push_back({{"name", w.name}, {"error", st.message()}});
      if (c != nullptr) running.push_back(*c);
      continue;
    }
    out[c == nullptr ? "added" : "changed"].push_back(w.name);
    running.push_back(w);
  }
  config_.update([&](config::Config& cfg) { cfg.sources = std::move(running); });
  return out;
}

std::optional<config::SourceConfig> LiveSources::parse(const std::string& entry, Change& change) const {
  const std::string store = config_.read([](const config::Config& c) { return c.credentials.store; });
  const credentials::StoreResolver resolver(store);
  auto r = loader_.load_source(entry, "body", &resolver);
  for (const auto& e : r.errors) change.errors.push_back({config::json_pointer(e), e.message});
  if (!r.ok()) return std::nullopt;
  return std::move(r.source);
}

bool LiveSources::in_pipeline(const std::string& name) const {
  const auto views = pipeline_.sources();
  return std::any_of(views.begin(), views.end(), [&](const pipeline::Pipeline::SourceView& v) { return v.name == name; });
}

// Called with mu_ held: UNAVAILABLE once closed; NOT_FOUND / ALREADY_EXISTS by must_exist.
Status LiveSources::check_open(const std::string& name, bool must_exist) const {
  if (closed_) return unavailable("the connector is stopping");
  const bool exists = config_.read([&](const config::Config& c) { return find(c.sources, name) != nullptr; });
  if (must_exist && !exists) return not_found("no source named \"" + name + "\"");
  if (!must_exist && exists) return Status(StatusCode::kAlreadyExists, "a source named \"" + name + "\" exists");
  return Status::ok();
}

LiveSources::Change LiveSources::add(const std::string& entry) {
  Change change;
  auto s = parse(entry, change);
  if (!s) return change;
  std::lock_guard lock(mu_);
  change.status = check_open(s->name, false);
  if (change.status.is_ok() && s->enabled) change.status = put_in_pipeline(*s);
  if (!change.status.is_ok()) return change;
  config_.update([&](config::Config& c) { c.sources.push_back(*s); });
  change.view = *view_of(s->name);
  note_saved(change.view, managed_ ? managed_->upsert(*s) : Status::ok());
  return change;
}

// The pipeline side of a PUT, for a source that exists (mu_ held).
Status LiveSources::apply_replacement(const config::SourceConfig& s) {
  if (!in_pipeline(s.name)) return s.enabled ? put_in_pipeline(s) : Status::ok();
  auto built = build(s);
  if (!built.is_ok()) return built.status();
  Status st = pipeline_.replace_source(std::move(built->source), std::move(built->normalizer),
                                       pipeline::runtime_options_from(s));
  if (st.is_ok() && !s.enabled) st = pipeline_.stop_source(s.name);
  return st;
}

LiveSources::Change LiveSources::replace(const std::string& name, const std::string& entry) {
  Change change;
  auto s = parse(entry, change);
  if (s && s->name != name) {
    change.errors.push_back({"/name", "must be \"" + name + "\", the name in the path (a source cannot be renamed)"});
  }
  if (!change.errors.empty()) return change;
  std::lock_guard lock(mu_);
  change.status = check_open(name, true);
  if (!change.status.is_ok()) return change;
  const std::string old_protocol =
      config_.read([&](const config::Config& c) { return find(c.sources, name)->protocol; });
  if (old_protocol != s->protocol) {
    change.errors.push_back({"/protocol", "cannot change from \"" + old_protocol + "\" to \"" + s->protocol +
                                              "\"; delete the source and add it again"});
    return change;
  }
  change.status = apply_replacement(*s);
  if (!change.status.is_ok()) return change;
  config_.update([&](config::Config& c) {
    auto it = std::find_if(c.sources.begin(), c.sources.end(), [&](const config::SourceConfig& x) { return x.name == name; });
    *it = *s;
  });
  change.view = *view_of(name);
  note_saved(change.view, managed_ ? managed_->upsert(*s) : Status::ok());
  return change;
}

Result<nlohmann::json> LiveSources::remove(const std::string& name, SpoolMode spool) {
  std::lock_guard lock(mu_);
  if (Status st = check_open(name, true); !st.is_ok()) return st;
  bool drained = true;
  if (in_pipeline(name)) {
    const auto wait = spool == SpoolMode::kDrain ? std::chrono::milliseconds(kDrainTimeout) : std::chrono::milliseconds(0);
    Status st = pipeline_.remove_source(name, wait);
    if (st.code() == StatusCode::kDeadlineExceeded) {
      drained = false;
    } else if (!st.is_ok()) {
      return st;
    }
  }
  config_.update([&](config::Config& c) {
    c.sources.erase(std::remove_if(c.sources.begin(), c.sources.end(),
                                   [&](const config::SourceConfig& x) { return x.name == name; }),
                    c.sources.end());
  });
  nlohmann::json out = {{"removed", name}, {"spool", spool == SpoolMode::kDrain ? "drain" : "keep"}};
  if (spool == SpoolMode::kDrain) out["drained"] = drained;
  note_saved(out, managed_ ? managed_->remove(name) : Status::ok());
  return out;
}

Result<nlohmann::json> LiveSources::start(const std::string& name) {
  std::lock_guard lock(mu_);
  if (Status st = check_open(name, true); !st.is_ok()) return st;
  if (!in_pipeline(name)) {
    const auto s = *config_.read([&](const config::Config& c) { return std::optional(*find(c.sources, name)); });
    if (!s.enabled) {
      return Status(StatusCode::kFailedPrecondition,
                    "source " + name + " is disabled (enabled: false); PUT it with enabled: true");
    }
    if (Status st = put_in_pipeline(s); !st.is_ok()) return st;
  } else if (Status st = pipeline_.start_source(name); !st.is_ok()) {
    return st;
  }
  return *view_of(name);
}

Result<nlohmann::json> LiveSources::stop(const std::string& name) {
  std::lock_guard lock(mu_);
  if (Status st = check_open(name, true); !st.is_ok()) return st;
  if (in_pipeline(name)) {
    if (Status st = pipeline_.stop_source(name); !st.is_ok()) return st;
  }
  return *view_of(name);
}

// ---- tests ----

LiveSources::Change LiveSources::test(const std::string& name, const TestLimits& limits) {
  auto source = config_.read([&](const config::Config& c) -> std::optional<config::SourceConfig> {
    const auto* s = find(c.sources, name);
    return s == nullptr ? std::nullopt : std::optional<config::SourceConfig>(*s);
  });
  if (!source) {
    Change change;
    change.status = not_found("no source named \"" + name + "\"");
    return change;
  }
  return probe_source(*source, norm_, limits);
}

LiveSources::Change LiveSources::test_entry(const std::string& entry, const TestLimits& limits) {
  Change change;
  auto s = parse(entry, change);
  if (!s) return change;
  return probe_source(*s, norm_, limits);
}

}  // namespace uc::app
