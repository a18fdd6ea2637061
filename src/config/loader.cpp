#include "config/loader.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>
#include <set>
#include <unordered_map>
#include <utility>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/exceptions.h>

#include "config/checks.h"
#include "config/flow_references.h"
#include "config/yaml_tree.h"

namespace uc::config {
namespace {

constexpr std::int64_t kMaxPort = 65535;

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string registered_list(const std::vector<std::string>& names) {
  if (names.empty()) return "no protocols are registered";
  return "registered: " + join(names, ", ");
}

// Loads one document; everything else is a member so that the sections share the
// registry and the collected state.
class DocumentParser {
 public:
  DocumentParser(const std::map<std::string, SourceParser, std::less<>>& protocols, Errors& errors)
      : protocols_(protocols), errors_(errors) {}

  Config parse(const Reader& root) {
    Config c;
    c.file = root.file();
    root.check_keys({"connector", "web_ui", "simulator", "normalization", "sources", "backpressure", "sinks",
                     "zerobus", "credentials", "discovery"});
    parse_connector(root, c.connector);
    if (auto r = root.get_object("web_ui")) parse_web_ui(*r, c.web_ui);
    if (auto r = root.get_object("simulator")) parse_simulator(*r, c.simulator);
    parse_sources(root, c);
    const std::optional<Reader> normalization = root.get_object("normalization");
    if (normalization) parse_normalization(*normalization, c);
    parse_backpressure(root.get_object("backpressure"), c);
    parse_sinks(root.get_object("sinks"), c);
    if (auto r = root.get_object("zerobus")) parse_zerobus(*r, c);
    c.credentials.store = join_path(c.connector.data_dir, "credentials.enc");
    if (auto r = root.get_object("credentials")) {
      r->check_keys({"store"});
      c.credentials.store = non_empty_string(*r, "store", c.credentials.store);
    }
    if (auto r = root.get_object("discovery")) parse_discovery(*r, c.discovery);
    return c;
  }

  // The section alone, against base's sources.
  ZerobusConfig parse_zerobus_section(const Reader& r, Config base) const {
    base.zerobus = ZerobusConfig{};
    parse_zerobus(r, base);
    return base.zerobus;
  }

 private:
  // A string that may be omitted but not given as "".
  static std::string non_empty_string(const Reader& r, std::string_view key, std::string fallback) {
    auto v = r.get_string(key);
    if (!v) return fallback;
    if (v->empty()) {
      r.error_at(key, "must not be empty");
      return fallback;
    }
    return *v;
  }

  static int port(const Reader& r, std::string_view key, int fallback) {
    return static_cast<int>(r.get_int_or(key, fallback, 1, kMaxPort));
  }

  static void check_template(const Reader& r, std::string_view key) {
    const auto text = r.peek_string(key);
    if (!text) return;
    if (auto problem = check_path_template(*text)) r.error_at(key, std::move(*problem));
  }

  static void parse_connector(const Reader& root, ConnectorConfig& out) {
    const auto r = root.get_object("connector");
    if (!r) {
      out.name = host_name();
      return;
    }
    r->check_keys({"name", "log_level", "data_dir"});
    if (!r->has("name")) {
      out.name = host_name();
      r->note("name not set: the connector is named after the host, " + quote(out.name));
    } else if (auto name = r->require_string("name")) {
      if (is_valid_name(*name)) {
        out.name = *name;
      } else {
        r->error_at("name", "must match [A-Za-z0-9_.-]+, got " + quote(*name));
      }
    }
    out.log_level = log_level(*r);
    out.data_dir = non_empty_string(*r, "data_dir", out.data_dir);
  }

  // The host name, reduced to [A-Za-z0-9_.-] ("unified-connector" without one).
  static std::string host_name() {
    char buf[256] = {};
    std::string name;
    if (gethostname(buf, sizeof buf - 1) == 0) name = buf;
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '-';
    }
    return name.empty() ? "unified-connector" : name;
  }

  // Any case ("DEBUG" as Python writes it); "warning" and "critical" (Python's names) with a note.
  static LogLevel log_level(const Reader& r) {
    if (!r.has("log_level")) return LogLevel::kInfo;
    const auto text = r.get_string("log_level");
    if (!text) return LogLevel::kInfo;
    std::string lower = *text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static const std::vector<std::pair<std::string, LogLevel>> kLevels = {
        {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
        {"warn", LogLevel::kWarn},   {"error", LogLevel::kError}};
    for (const auto& [name, level] : kLevels) {
      if (lower == name) return level;
    }
    if (lower == "warning" || lower == "critical") {
      const LogLevel level = lower == "warning" ? LogLevel::kWarn : LogLevel::kError;
      r.note_at("log_level", quote(*text) + " is read as " + quote(lower == "warning" ? "warn" : "error"));
      return level;
    }
    r.error_at("log_level", "expected one of trace | debug | info | warn | error, got " + quote(*text));
    return LogLevel::kInfo;
  }

  static void parse_tls(const Reader& r, TlsFiles& out) {
    r.check_keys({"enabled", "cert_file", "key_file"});
    out.enabled = r.get_bool("enabled", false);
    out.cert_file = r.get_string("cert_file", "");
    out.key_file = r.get_string("key_file", "");
    if (out.enabled) {
      if (out.cert_file.empty()) r.error("cert_file is required when tls is enabled");
      if (out.key_file.empty()) r.error("key_file is required when tls is enabled");
    }
  }

  static void parse_web_ui(const Reader& r, WebUiConfig& out) {
    r.check_keys({"enabled", "host", "port", "auth_token", "tls"});
    out.enabled = r.get_bool("enabled", true);
    out.host = non_empty_string(r, "host", out.host);
    out.port = port(r, "port", out.port);
    out.auth_token = r.get_secret("auth_token");
    check_token(r, out.auth_token);
    if (auto tls = r.get_object("tls")) parse_tls(*tls, out.tls);
    if (out.enabled && !is_loopback_host(out.host) && !out.auth_token.is_set()) {
      r.error("auth_token is required when host is not a loopback address (host " + quote(out.host) + ")");
    }
  }

  // A bearer token short enough to guess (or only blanks) is refused; the value is never
  // echoed. An unresolved ${credential:} reference is checked once resolved.
  static constexpr std::size_t kMinTokenChars = 12;
  static void check_token(const Reader& r, const Secret& token) {
    if (token.value.empty()) return;
    const bool blank = token.value.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank || token.value.size() < kMinTokenChars) {
      r.error_at("auth_token", "must be at least " + std::to_string(kMinTokenChars) +
                                   " characters and not only blanks (a short token is guessed quickly)");
    }
  }

  static void parse_simulator(const Reader& r, SimulatorConfig& out) {
    r.check_keys({"enabled", "opcua", "modbus", "mqtt"});
    out.enabled = r.get_bool("enabled", false);
    if (auto s = r.get_object("opcua")) {
      s->check_keys({"enabled", "port", "variables"});
      out.opcua.enabled = s->get_bool("enabled", true);
      out.opcua.port = port(*s, "port", out.opcua.port);
      out.opcua.variables = static_cast<int>(s->get_int_or("variables", out.opcua.variables, 1, 100000));
    }
    if (auto s = r.get_object("modbus")) {
      s->check_keys({"enabled", "port"});
      out.modbus.enabled = s->get_bool("enabled", true);
      out.modbus.port = port(*s, "port", out.modbus.port);
    }
    if (auto s = r.get_object("mqtt")) {
      s->check_keys({"enabled", "broker", "json", "sparkplug", "interval_ms", "devices"});
      out.mqtt.enabled = s->get_bool("enabled", true);
      if (auto broker = s->get_string("broker")) {
        if (broker->rfind("mqtt://", 0) == 0 || broker->rfind("mqtts://", 0) == 0) {
          out.mqtt.broker = *broker;
        } else {
          s->error_at("broker", "must start with mqtt:// or mqtts://, got " + quote(*broker));
        }
      }
      out.mqtt.json = s->get_bool("json", true);
      out.mqtt.sparkplug = s->get_bool("sparkplug", true);
      out.mqtt.interval_ms = static_cast<int>(s->get_int_or("interval_ms", out.mqtt.interval_ms, 0, 3600000));
      out.mqtt.devices = static_cast<int>(s->get_int_or("devices", out.mqtt.devices, 1, 1000));
    }
  }

  // The site/area/line/equipment keys of `r` into the same-named fields of `out` (a
  // mapping or a source).
  template <typename T>
  static void parse_context_into(const Reader& r, T& out) {
    PathContext ctx;
    parse_context(r, ctx);
    out.site = std::move(ctx.site);
    out.area = std::move(ctx.area);
    out.line = std::move(ctx.line);
    out.equipment = std::move(ctx.equipment);
  }

  static void parse_context(const Reader& r, PathContext& out) {
    out.site = r.get_string("site", "");
    out.area = r.get_string("area", "");
    out.line = r.get_string("line", "");
    out.equipment = r.get_string("equipment", "");
  }

  void check_source_ref(const Reader& r, std::string_view key, const std::string& name, const Config& c) const {
    if (name.empty() || source_lines_.count(name) != 0) return;
    r.error_at(key, unknown_source(name, c));
  }

  // "no source named X", with the closest name for the first kMaxSuggestions unknown
  // names: the search reads every source's name, and a file with 100,000 wrong
  // references would otherwise take hours (validation stays linear in the file's size).
  static constexpr std::size_t kMaxSuggestions = 100;
  std::string unknown_source(const std::string& name, const Config& c) const {
    std::string message = "no source named " + quote(name);
    if (suggestions_made_ >= kMaxSuggestions) return message;
    ++suggestions_made_;
    std::vector<std::string> names;
    names.reserve(c.sources.size());
    for (const SourceConfig& s : c.sources) names.push_back(s.name);
    if (auto m = closest_match(name, names)) message += "; did you mean \"" + *m + "\"?";
    return message;
  }

  void parse_normalization(const Reader& r, Config& c) const {
    NormalizationConfig& out = c.normalization;
    r.check_keys({"enabled", "path_template", "default_context", "rules", "mappings"});
    out.enabled = r.get_bool("enabled", true);
    if (auto t = r.get_string("path_template")) {
      out.path_template = *t;
      check_template(r, "path_template");
    }
    if (auto ctx = r.get_object("default_context")) {
      ctx->check_keys({"site", "area", "line", "equipment"});
      parse_context(*ctx, out.default_context);
    }
    static const std::vector<std::pair<std::string, RuleField>> kFields = {
        {"topic", RuleField::kAddress},
        {"address", RuleField::kAddress},
        {"browse_path", RuleField::kNamePath},
        {"name", RuleField::kNamePath}};
    for (const Reader& item : r.get_list("rules")) {
      if (!item.is_map()) {
        item.error("expected a map, got " + item.describe());
        continue;
      }
      item.check_keys({"protocol", "source", "topic", "address", "browse_path", "name"});
      NormalizationRule rule;
      rule.location = item.location();
      rule.protocol = item.get_string("protocol", "");
      if (!rule.protocol.empty() && protocols_.find(rule.protocol) == protocols_.end()) {
        item.error_at("protocol", "unknown protocol " + quote(rule.protocol) + "; " + registered_list(names()));
      }
      rule.source = item.get_string("source", "");
      check_source_ref(item, "source", rule.source, c);
      std::vector<std::string> given;
      for (const auto& [key, field] : kFields) {
        if (!item.has(key)) continue;
        given.push_back(key);
        rule.field = field;
        rule.pattern = item.get_string(key, "");
      }
      if (given.empty()) {
        item.error("exactly one of topic | address | browse_path | name is required");
        continue;
      }
      if (given.size() > 1) {
        item.error("exactly one of topic | address | browse_path | name is required, got " + join(given, " and "));
        continue;
      }
      out.rules.push_back(std::move(rule));
    }
    for (const Reader& item : r.get_list("mappings")) {
      if (!item.is_map()) {
        item.error("expected a map, got " + item.describe());
        continue;
      }
      item.check_keys({"source", "address", "tag_name", "signal_type", "unit", "site", "area", "line", "equipment",
                       "eng_range"});
      TagMapping m;
      m.location = item.location();
      m.source = item.get_string("source", "");
      check_source_ref(item, "source", m.source, c);
      m.address = item.require_string("address").value_or("");
      m.tag_name = item.get_string("tag_name", "");
      m.signal_type = item.get_string("signal_type", "");
      m.unit = item.get_string("unit", "");
      parse_context_into(item, m);
      if (auto range = item.child("eng_range"); range && !range->is_null()) {
        const std::vector<Reader> bounds = range->items();
        if (range->is_list() && bounds.size() != 2) {
          range->error("expected [low, high], got a list of " + std::to_string(bounds.size()));
        } else if (bounds.size() == 2) {
          const auto low = bounds[0].as_double();
          const auto high = bounds[1].as_double();
          if (low && high) {
            if (*low < *high) {
              m.eng_range = std::make_pair(*low, *high);
            } else {
              range->error("low must be less than high");
            }
          }
        }
      }
      out.mappings.push_back(std::move(m));
    }
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : protocols_) out.push_back(entry.first);
    return out;
  }

  void parse_sources(const Reader& root, Config& c) {
    const std::vector<Reader> items = root.get_list("sources");
    c.sources.reserve(items.size());
    source_lines_.reserve(items.size());
    for (const Reader& item : items) {
      if (auto s = parse_source(item)) {
        source_lines_.emplace(s->name, s->line_no);
        c.sources.push_back(std::move(*s));
      }
    }
  }

 public:
  // One entry of `sources:`; nullopt when it cannot be kept (no usable or a duplicate
  // name, not a map). Problems go to the errors either way.
  // Whether the name is a duplicate is checked against the sources parse_sources() kept.
  std::optional<SourceConfig> parse_source(const Reader& item) const {
    if (!item.is_map()) {
      item.error("expected a map, got " + item.describe());
      return std::nullopt;
    }
    SourceConfig s;
    const Location where = item.location();
    s.line_no = where.line;
    s.column = where.column;
    bool usable = parse_source_name(item, s);
    s.endpoint = item.get_string("endpoint", "");
    parse_context_into(item, s);
    if (auto t = item.get_string("path_template")) {
      s.path_template = *t;
      check_template(item, "path_template");
    }
    s.enabled = item.get_bool("enabled", true);
    parse_backoff(item, s);
    if (auto protocol = item.require_string("protocol")) {
      s.protocol = *protocol;
      const auto it = protocols_.find(*protocol);
      if (it == protocols_.end()) {
        item.error_at("protocol", "unknown protocol " + quote(*protocol) + "; " + registered_list(names()));
      } else {
        s.options = it->second(item, errors_);
      }
    }
    keep_document(item, s);
    if (!usable) return std::nullopt;
    return s;
  }

 private:
  bool parse_source_name(const Reader& item, SourceConfig& s) const {
    const auto name = item.require_string("name");
    if (!name) return false;
    s.name = *name;
    if (!is_valid_name(*name)) {
      item.error_at("name", "must match [A-Za-z0-9_.-]+, got " + quote(*name));
      return false;
    }
    if (const auto first = source_lines_.find(*name); first != source_lines_.end()) {
      item.error_at("name", "duplicate source name " + quote(*name) + " (first defined at line " +
                                std::to_string(first->second) + ")");
      return false;
    }
    return true;
  }

  // The entry as written (a node of the file's tree, which it keeps) and which of its keys
  // held secrets (relative to the entry). The secret paths are sorted, so the entry's are
  // the range that starts with its path.
  static void keep_document(const Reader& item, SourceConfig& s) {
    s.document_tree = item.context().tree;
    s.document_node = item.node().index();
    const std::set<std::string>* secrets = item.context().secret_paths;
    if (secrets == nullptr) return;
    const std::string prefix = item.path().empty() ? std::string() : item.path() + ".";
    for (auto it = secrets->lower_bound(prefix); it != secrets->end() && it->starts_with(prefix); ++it) {
      if (it->size() > prefix.size()) s.secret_keys.push_back(it->substr(prefix.size()));
    }
  }

  static void parse_backoff(const Reader& item, SourceConfig& s) {
    constexpr std::int64_t kHourMs = 3'600'000;
    s.backoff_initial_ms = static_cast<int>(item.get_int_or("backoff_initial_ms", s.backoff_initial_ms, 1, kHourMs));
    s.backoff_max_ms = static_cast<int>(item.get_int_or("backoff_max_ms", s.backoff_max_ms, 1, kHourMs));
    if (s.backoff_max_ms < s.backoff_initial_ms) {
      item.error_at("backoff_max_ms",
                    "must not be less than backoff_initial_ms (" + std::to_string(s.backoff_initial_ms) + ")");
    }
  }

  static void parse_backpressure(const std::optional<Reader>& r, Config& c) {
    BackpressureConfig& out = c.backpressure;
    out.disk_spool.directory = join_path(c.connector.data_dir, "spool");
    out.dlq.directory = join_path(c.connector.data_dir, "dlq");
    if (!r) return;
    r->check_keys({"max_queue_size", "drop_policy", "disk_spool", "dlq", "retry", "circuit_breaker"});
    out.max_queue_size = r->get_int_or("max_queue_size", out.max_queue_size, 1, 100000000);
    out.drop_policy = r->get_enum<DropPolicy>(
        "drop_policy",
        {{"block", DropPolicy::kBlock}, {"oldest", DropPolicy::kDropOldest}, {"newest", DropPolicy::kDropNewest}},
        DropPolicy::kBlock);
    if (auto s = r->get_object("disk_spool")) {
      s->check_keys({"enabled", "directory", "max_size_mb", "segment_mb", "fsync", "fsync_interval_ms"});
      out.disk_spool.enabled = s->get_bool("enabled", true);
      out.disk_spool.directory = non_empty_string(*s, "directory", out.disk_spool.directory);
      out.disk_spool.max_size_mb = s->get_int_or("max_size_mb", out.disk_spool.max_size_mb, 1, 16 * 1024 * 1024);
      out.disk_spool.fsync = s->get_enum<FsyncPolicy>(
          "fsync", {{"batch", FsyncPolicy::kBatch}, {"interval", FsyncPolicy::kInterval}, {"never", FsyncPolicy::kNever}},
          FsyncPolicy::kInterval);
      out.disk_spool.segment_mb = s->get_int_or("segment_mb", out.disk_spool.segment_mb, 1, 1024);
      out.disk_spool.fsync_interval_ms =
          s->get_int_or("fsync_interval_ms", out.disk_spool.fsync_interval_ms, 1, 3600000);
    }
    if (auto d = r->get_object("dlq")) {
      d->check_keys({"directory"});
      out.dlq.directory = non_empty_string(*d, "directory", out.dlq.directory);
    }
    if (auto t = r->get_object("retry")) {
      t->check_keys({"initial_ms", "max_ms"});
      out.retry.initial_ms = t->get_int_or("initial_ms", out.retry.initial_ms, 1, 3600000);
      out.retry.max_ms = t->get_int_or("max_ms", out.retry.max_ms, 1, 3600000);
      if (out.retry.max_ms < out.retry.initial_ms) t->error_at("max_ms", "must not be less than initial_ms");
    }
    if (auto b = r->get_object("circuit_breaker")) {
      b->check_keys({"failure_threshold", "open_s"});
      out.circuit_breaker.failure_threshold =
          b->get_int_or("failure_threshold", out.circuit_breaker.failure_threshold, 1, 1000000);
      out.circuit_breaker.open_s = b->get_int_or("open_s", out.circuit_breaker.open_s, 1, 86400);
    }
  }

  static void parse_batch(const Reader& r, BatchConfig& out) {
    r.check_keys({"max_records", "max_bytes", "linger_ms"});
    out.max_records = r.get_int_or("max_records", out.max_records, 1, 10000000);
    out.max_bytes = r.get_int_or("max_bytes", out.max_bytes, 1, 1LL << 32);
    out.linger_ms = r.get_int_or("linger_ms", out.linger_ms, 0, 3600000);
  }

  static void parse_sinks(const std::optional<Reader>& r, Config& c) {
    SinksConfig& out = c.sinks;
    out.file.directory = join_path(c.connector.data_dir, "records");
    if (!r) return;
    r->check_keys({"file", "stdout"});
    if (auto f = r->get_object("file")) {
      f->check_keys({"enabled", "directory", "rotate_mb", "rotate_s", "fsync", "max_record_bytes", "batch"});
      out.file.fsync = f->get_bool("fsync", out.file.fsync);
      out.file.max_record_bytes = f->get_int_or("max_record_bytes", out.file.max_record_bytes, 64, 1LL << 30);
      out.file.enabled = f->get_bool("enabled", true);
      out.file.directory = non_empty_string(*f, "directory", out.file.directory);
      out.file.rotate_mb = f->get_int_or("rotate_mb", out.file.rotate_mb, 1, 1024 * 1024);
      out.file.rotate_s = f->get_int_or("rotate_s", out.file.rotate_s, 0, 366LL * 24 * 3600);
      if (auto b = f->get_object("batch")) parse_batch(*b, out.file.batch);
    }
    if (auto s = r->get_object("stdout")) {
      s->check_keys({"enabled"});
      out.stdout_sink.enabled = s->get_bool("enabled", false);
    }
  }

  static std::optional<TableName> parse_table(const Reader& r) {
    if (!r.is_map()) {
      r.error("expected a map, got " + r.describe());
      return std::nullopt;
    }
    r.check_keys({"catalog", "schema", "table"});
    TableName t;
    bool ok = true;
    for (auto [key, field] : {std::pair{"catalog", &t.catalog}, std::pair{"schema", &t.schema},
                              std::pair{"table", &t.table}}) {
      auto v = r.require_string(key);
      if (!v) {
        ok = false;
      } else if (v->empty() || v->find_first_of(". `") != std::string::npos) {
        r.error_at(key, "must be a non-empty name without dots, spaces or backticks, got " + quote(*v));
        ok = false;
      } else {
        *field = *v;
      }
    }
    if (!ok) return std::nullopt;
    return t;
  }

  void parse_zerobus(const Reader& r, Config& c) const {
    ZerobusConfig& out = c.zerobus;
    r.check_keys({"enabled", "workspace_host", "endpoint", "tls", "auth", "record_format", "default_target",
                  "source_targets", "batch", "ack_timeout_ms", "create_timeout_ms"});
    out.enabled = r.get_bool("enabled", false);
    if (auto host = r.get_string("workspace_host")) {
      if (host->rfind("https://", 0) == 0 || host->rfind("http://", 0) == 0) {
        out.workspace_host = *host;
      } else {
        r.error_at("workspace_host", "must start with https:// or http://, got " + quote(*host));
      }
    }
    out.endpoint = r.get_string("endpoint", "");
    out.tls = r.get_bool("tls", true);
    if (auto auth = r.get_object("auth")) {
      auth->check_keys({"client_id", "client_secret"});
      out.client_id = auth->get_secret("client_id");
      out.client_secret = auth->get_secret("client_secret");
    }
    out.record_format = r.get_enum<RecordFormat>(
        "record_format", {{"proto", RecordFormat::kProto}, {"json", RecordFormat::kJson}}, RecordFormat::kProto);
    if (auto t = r.child("default_target"); t && !t->is_null()) out.default_target = parse_table(*t);
    if (auto targets = r.get_object("source_targets")) {
      for (const Reader::Entry& entry : targets->entries()) {
        const std::string& name = entry.key;
        const Reader& value = entry.value;
        if (source_lines_.count(name) == 0) {
          errors_.add(value.file(), entry.key_mark, value.path(), unknown_source(name, c));
          continue;
        }
        if (auto t = parse_table(value)) out.source_targets[name] = *t;
      }
    }
    if (auto b = r.get_object("batch")) parse_batch(*b, out.batch);
    out.ack_timeout_ms = r.get_int_or("ack_timeout_ms", 60000, 100, 3600000);
    out.create_timeout_ms = r.get_int_or("create_timeout_ms", 15000, 100, 600000);
    if (out.enabled) {
      if (!r.has("workspace_host") || out.workspace_host.empty()) {
        r.error("workspace_host is required when zerobus is enabled");
      }
      if (out.endpoint.empty()) r.error("endpoint is required when zerobus is enabled");
      if (!r.has("default_target")) {
        std::vector<std::string> untargeted;
        for (const SourceConfig& s : c.sources) {
          if (s.enabled && out.source_targets.count(s.name) == 0) untargeted.push_back(s.name);
        }
        if (!untargeted.empty() || c.sources.empty()) {
          r.error("default_target is required when zerobus is enabled and a source has no entry in source_targets" +
                  (untargeted.empty() ? std::string() : " (" + join(untargeted, ", ") + ")"));
        }
      }
    }
  }

  static void parse_discovery(const Reader& r, DiscoveryConfig& out) {
    r.check_keys({"enabled", "subnets", "network", "ports", "interval_s"});
    out.enabled = r.get_bool("enabled", false);
    std::optional<Reader> subnets_of = r;
    if (auto network = r.get_object("network")) {  // the prototype's spelling
      network->check_keys({"subnets"});
      if (r.has("subnets")) {
        r.error_at("network", "give subnets or network.subnets, not both");
      } else {
        network->note("network.subnets is read as discovery.subnets");
        subnets_of = network;
      }
    }
    for (const Reader& item : subnets_of->get_list("subnets")) {
      auto cidr = item.as_string();
      if (!cidr) continue;
      if (!is_valid_cidr(*cidr)) {
        item.error("invalid CIDR " + quote(*cidr) + "; expected ADDRESS/PREFIX such as 192.168.1.0/24");
        continue;
      }
      out.subnets.push_back(*cidr);
    }
    if (auto p = r.get_object("ports")) {
      p->check_keys({"opcua", "mqtt", "modbus"});
      const auto read = [&](std::string_view key, std::vector<int>& dst) {
        if (!p->has(key)) return;
        dst.clear();
        for (const std::int64_t v : p->get_int_list(key, 1, kMaxPort)) dst.push_back(static_cast<int>(v));
      };
      read("opcua", out.opcua_ports);
      read("mqtt", out.mqtt_ports);
      read("modbus", out.modbus_ports);
    }
    out.interval_s = r.get_int_or("interval_s", out.interval_s, 0, 366LL * 24 * 3600);
  }

  const std::map<std::string, SourceParser, std::less<>>& protocols_;
  Errors& errors_;
  std::unordered_map<std::string, int> source_lines_;  // name -> line of each kept source
  mutable std::size_t suggestions_made_ = 0;
};

// The documents of text as a tree, with the retry described in flow_references.h.
// Throws the original text's error when the retry does not help.
std::shared_ptr<const YamlTree> parse_yaml(std::string_view text,
                                           std::shared_ptr<const std::set<std::pair<int, int>>>& rewritten) {
  try {
    return YamlTree::parse(text);
  } catch (const YAML::ParserException&) {
    std::optional<FlowRewrite> retry = quote_flow_references(text);
    if (!retry) throw;
    try {
      std::shared_ptr<const YamlTree> tree = YamlTree::parse(retry->text);
      rewritten = std::make_shared<const std::set<std::pair<int, int>>>(std::move(retry->positions));
      return tree;
    } catch (const YAML::ParserException&) {
      // fall through to the original error
    }
    throw;
  }
}

}  // namespace

const std::vector<std::string>& common_source_keys() {
  static const std::vector<std::string> kKeys = {
      "name", "protocol", "endpoint", "site", "area", "line", "equipment", "path_template", "enabled",
      "backoff_initial_ms", "backoff_max_ms"};
  return kKeys;
}

std::vector<std::string> with_common_source_keys(std::initializer_list<std::string> own) {
  std::vector<std::string> keys = common_source_keys();
  keys.insert(keys.end(), own.begin(), own.end());
  return keys;
}

Loader::Loader() : env_(process_environment()) {}

void Loader::register_protocol(std::string name, SourceParser parser) {
  protocols_[std::move(name)] = std::move(parser);
}

std::vector<std::string> Loader::protocols() const {
  std::vector<std::string> out;
  for (const auto& entry : protocols_) out.push_back(entry.first);
  return out;
}

void Loader::set_env_lookup(EnvLookup env) { env_ = std::move(env); }

LoadResult Loader::load_file(const std::string& path, const CredentialResolver* resolver) const {
  LoadResult result;
  const auto fail = [&](std::string message) {
    ConfigError e;
    e.file = path;
    e.message = std::move(message);
    result.errors.push_back(std::move(e));
    return result;
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open the file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return fail("cannot read the file");
  if (static_cast<std::size_t>(size) > kMaxFileBytes) {
    return fail("the file is too large (" + std::to_string(size) + " bytes; the limit is " +
                std::to_string(kMaxFileBytes) + ")");
  }
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), size)) return fail("cannot read the file");
  return load_string(text, path, resolver);
}

namespace {

// The position of the first NUL byte of text, which yaml-cpp would silently stop at.
YAML::Mark nul_mark(std::string_view text) {
  const auto before = text.substr(0, text.find('\0'));
  YAML::Mark at;
  at.line = static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t nl = before.rfind('\n');
  at.column = static_cast<int>(nl == std::string_view::npos ? before.size() : before.size() - nl - 1);
  return at;
}

// The single YAML map of text, or nullopt with the reason in errors. `what` names the
// map in the message about an empty text ("configuration", "source").
std::optional<YamlNode> parse_map(std::string_view text, ReadContext& context, Errors& errors,
                                  std::string_view what) {
  const std::string& file_name = context.file;
  const YAML::Mark start;
  try {
    if (text.find('\0') != std::string_view::npos) {
      errors.add(file_name, nul_mark(text), "", "invalid YAML: the file contains a NUL byte (is it a text file?)");
      return std::nullopt;
    }
    context.tree = parse_yaml(text, context.rewritten_references);
    const YamlTree& docs = *context.tree;
    if (docs.documents() == 0 || docs.document(0).is_null()) {
      errors.add(file_name, start, "", "the " + std::string(what) + " is empty");
    } else if (docs.documents() > 1) {
      errors.add(file_name, docs.document(1).mark(), "",
                 "expected a single YAML document, got " + std::to_string(docs.documents()));
    } else if (!docs.document(0).is_map()) {
      errors.add(file_name, start, "", "expected a map at the top level, got " +
                                           std::string(docs.document(0).is_sequence() ? "a list" : "a scalar"));
    } else {
      return docs.document(0);
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file".
    errors.add(file_name, e.mark, "", "invalid YAML: nesting is too deep");
  } catch (const YAML::Exception& e) {
    errors.add(file_name, e.mark, "", "invalid YAML: " + e.msg);
  }
  return std::nullopt;
}

std::vector<ConfigError> by_position(std::vector<ConfigError> list) {
  std::stable_sort(list.begin(), list.end(), [](const ConfigError& a, const ConfigError& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return list;
}

}  // namespace

LoadResult Loader::load_string(std::string_view text, const std::string& file_name,
                               const CredentialResolver* resolver) const {
  LoadResult result;
  Errors errors;
  std::set<std::string> secrets;
  ReadContext context{file_name, &errors, resolver, env_, {}, &secrets, {}};
  Config config;
  if (const auto root = parse_map(text, context, errors, "configuration")) {
    try {
      DocumentParser parser(protocols_, errors);
      config = parser.parse(Reader::root(context, *root));
    } catch (const YAML::Exception& e) {
      errors.add(file_name, e.mark, "", "invalid YAML: " + e.msg);
    }
  }
  result.errors = by_position(errors.take());
  result.notes = by_position(errors.take_notes());
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

SourceLoadResult Loader::load_source(std::string_view text, const std::string& file_name,
                                     const CredentialResolver* resolver) const {
  SourceLoadResult result;
  Errors errors;
  std::set<std::string> secrets;
  ReadContext context{file_name, &errors, resolver, env_, {}, &secrets, {}};
  std::optional<SourceConfig> source;
  if (const auto root = parse_map(text, context, errors, "source")) {
    try {
      const DocumentParser parser(protocols_, errors);
      source = parser.parse_source(Reader::root(context, *root));
    } catch (const YAML::Exception& e) {
      errors.add(file_name, e.mark, "", "invalid YAML: " + e.msg);
    }
  }
  result.errors = by_position(errors.take());
  if (result.errors.empty()) result.source = std::move(source);
  return result;
}

ZerobusLoadResult Loader::load_zerobus(std::string_view text, const std::string& file_name, const Config& base,
                                      const CredentialResolver* resolver) const {
  ZerobusLoadResult result;
  Errors errors;
  std::set<std::string> secrets;
  ReadContext context{file_name, &errors, resolver, env_, {}, &secrets, {}};
  std::optional<ZerobusConfig> zerobus;
  if (const auto root = parse_map(text, context, errors, "zerobus section")) {
    try {
      const DocumentParser parser(protocols_, errors);
      zerobus = parser.parse_zerobus_section(Reader::root(context, *root), base);
    } catch (const YAML::Exception& e) {
      errors.add(file_name, e.mark, "", "invalid YAML: " + e.msg);
    }
  }
  result.errors = by_position(errors.take());
  if (result.errors.empty()) result.zerobus = std::move(zerobus);
  return result;
}

}  // namespace uc::config
