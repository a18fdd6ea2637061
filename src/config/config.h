// The connector's typed configuration: one struct per section of SPEC Appendix A.
// Built by Loader (loader.h); every field has the default stated here, and a
// Config exists only when the file had no errors. Relative paths stay as written
// (relative to the working directory).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "buffer/policies.h"
#include "config/error.h"
#include "config/secret.h"
#include "core/record_codec.h"
#include "normalize/rule_field.h"
#include "telemetry/log_level.h"

namespace uc::config {

class YamlTree;  // yaml_tree.h

// Enums are owned by the module of their concept, in headers without a link dependency;
// the loader parses straight into them.
using telemetry::LogLevel;
using buffer::DropPolicy;
using buffer::FsyncPolicy;
using uc::RecordFormat;
using normalize::RuleField;

struct ConnectorConfig {
  std::string name;  // required, [A-Za-z0-9_.-]+
  LogLevel log_level = LogLevel::kInfo;
  std::string data_dir = "./data";
};

struct TlsFiles {
  bool enabled = false;
  std::string cert_file;  // required when enabled
  std::string key_file;   // required when enabled
};

struct WebUiConfig {
  bool enabled = true;
  std::string host = "127.0.0.1";
  int port = 8080;
  Secret auth_token;  // required when host is not a loopback address
  TlsFiles tls;
};

struct SimulatorConfig {
  bool enabled = false;
  struct OpcUa {
    bool enabled = true;
    int port = 4840;
    int variables = 200;  // 1..100000
  } opcua;
  struct Modbus {
    bool enabled = true;
    int port = 5020;
  } modbus;
  struct Mqtt {
    bool enabled = true;
    std::string broker = "mqtt://127.0.0.1:1883";
    bool json = true;
    bool sparkplug = true;
    int interval_ms = 1000;  // 0: as fast as the broker takes them
    int devices = 2;         // 1..1000
  } mqtt;
};

// ISA-95 context; empty = not set here.
struct PathContext {
  std::string site, area, line, equipment;
};

// A regex with named groups (site, area, line, equipment, signal_type, tag_name)
// over one part of the address. The pattern is not compiled here; the normalize
// module does that and reports bad patterns at `location`.
struct NormalizationRule {
  std::string protocol;  // empty: any
  std::string source;    // empty: any; otherwise names a configured source
  RuleField field = RuleField::kAddress;
  std::string pattern;
  Location location;
};

// Per-tag overrides, matched by source (empty: any) and exact address.
struct TagMapping {
  std::string source;
  std::string address;  // required
  std::string tag_name, signal_type, unit;
  std::string site, area, line, equipment;
  std::optional<std::pair<double, double>> eng_range;  // low < high
  Location location;
};

// The placeholders a path template may use.
const std::vector<std::string>& path_template_placeholders();
inline constexpr const char* kDefaultPathTemplate = "{site}/{area}/{line}/{equipment}/{signal_type}/{tag_name}";

struct NormalizationConfig {
  bool enabled = true;
  std::string path_template = kDefaultPathTemplate;
  PathContext default_context;
  std::vector<NormalizationRule> rules;
  std::vector<TagMapping> mappings;
};

// Base of a protocol's typed options; each protocol's parser returns its own
// subclass (e.g. uc::sources::modbus::Options), which the source downcasts.
struct SourceOptions {
  virtual ~SourceOptions() = default;
};

struct SourceConfig {
  std::string name;      // required, unique, [A-Za-z0-9_.-]+
  std::string protocol;  // required, a registered protocol
  std::string endpoint;  // checked by the protocol's parser
  std::string site, area, line, equipment;
  std::string path_template;  // override, may be empty
  bool enabled = true;
  // Reconnect back-off of every protocol: the first retry after a failure waits
  // backoff_initial_ms, doubling per failure up to backoff_max_ms, ±20 % jitter.
  int backoff_initial_ms = 500;
  int backoff_max_ms = 30000;
  int line_no = 0;  // position of the source's map in the file (1-based)
  int column = 0;
  std::shared_ptr<const SourceOptions> options;  // from the protocol's parser; may be null
  // The entry as written, for the API's view of the source (source_document.h): node
  // document_node of the file's tree, which every source of the file shares and keeps
  // (no copy per source); null for a SourceConfig made in code.
  std::shared_ptr<const YamlTree> document_tree;
  std::uint32_t document_node = 0;
  // Key paths inside the entry ("password", "tls.key_password") that hold secrets.
  std::vector<std::string> secret_keys;
};

struct BackpressureConfig {
  std::int64_t max_queue_size = 50000;  // >= 1
  DropPolicy drop_policy = DropPolicy::kBlock;
  struct DiskSpool {
    bool enabled = true;
    std::string directory;  // default <data_dir>/spool
    std::int64_t max_size_mb = 512;
    std::int64_t segment_mb = 32;
    FsyncPolicy fsync = FsyncPolicy::kInterval;
    std::int64_t fsync_interval_ms = 1000;
  } disk_spool;
  struct Dlq {
    std::string directory;  // default <data_dir>/dlq
  } dlq;
  struct Retry {  // backoff between retries of a failed batch (exponential, with jitter)
    std::int64_t initial_ms = 100;
    std::int64_t max_ms = 30000;
  } retry;
  struct CircuitBreaker {  // per target
    std::int64_t failure_threshold = 5;  // consecutive failures that open it
    std::int64_t open_s = 30;            // how long it stays open before one trial
  } circuit_breaker;
};

struct BatchConfig {
  std::int64_t max_records = 1000;
  std::int64_t max_bytes = 4194304;
  std::int64_t linger_ms = 100;
};

struct SinksConfig {
  struct File {
    bool enabled = true;
    std::string directory;     // default <data_dir>/records
    std::int64_t rotate_mb = 64;
    std::int64_t rotate_s = 3600;  // 0 = never by time
    bool fsync = false;            // fdatasync every batch before acknowledging it
    std::int64_t max_record_bytes = 1048576;  // longer JSON lines are rejected (to the DLQ)
    BatchConfig batch;
  } file;
  struct Stdout {
    bool enabled = false;
  } stdout_sink;  // the YAML key is "stdout"
};

struct TableName {
  std::string catalog, schema, table;
  std::string full_name() const { return catalog + "." + schema + "." + table; }
};

struct ZerobusConfig {
  bool enabled = false;
  std::string workspace_host;  // required when enabled
  std::string endpoint;        // required when enabled
  bool tls = true;
  Secret client_id;      // auth.client_id
  Secret client_secret;  // auth.client_secret
  RecordFormat record_format = RecordFormat::kProto;
  std::optional<TableName> default_target;  // required when enabled
  std::map<std::string, TableName> source_targets;  // keys name configured sources
  BatchConfig batch;
  std::int64_t ack_timeout_ms = 60000;     // no ack progress for this long → a new stream
  std::int64_t create_timeout_ms = 15000;  // stream creation must be answered within this
};

struct CredentialsConfig {
  std::string store;  // default <data_dir>/credentials.enc
};

struct DiscoveryConfig {
  bool enabled = false;
  std::vector<std::string> subnets;  // valid IPv4/IPv6 CIDRs
  std::vector<int> opcua_ports{4840};
  std::vector<int> mqtt_ports{1883, 8883};
  std::vector<int> modbus_ports{502};
  std::int64_t interval_s = 3600;  // 0 = scan once
};

struct Config {
  std::string file;
  ConnectorConfig connector;
  WebUiConfig web_ui;
  SimulatorConfig simulator;
  NormalizationConfig normalization;
  std::vector<SourceConfig> sources;
  BackpressureConfig backpressure;
  SinksConfig sinks;
  ZerobusConfig zerobus;
  CredentialsConfig credentials;
  DiscoveryConfig discovery;

  const SourceConfig* find_source(std::string_view name) const;
};

}  // namespace uc::config
