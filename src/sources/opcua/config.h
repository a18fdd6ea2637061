// Options of an OPC UA source (SPEC §4, Appendix A). Validated at load; used by
// the OPC UA source when it starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/reader.h"

namespace uc::sources::opcua {

enum class Mode : std::uint8_t { kSubscription, kPolling };
enum class SecurityPolicy : std::uint8_t { kNone, kBasic256Sha256, kAes128Sha256RsaOaep };
enum class SecurityMode : std::uint8_t { kNone, kSign, kSignAndEncrypt };

struct Security {
  SecurityPolicy policy = SecurityPolicy::kNone;
  SecurityMode mode = SecurityMode::kNone;  // None iff policy is None
  config::Secret username;                  // empty: anonymous
  config::Secret password;
  std::string certificate_file;  // both or neither; neither: generated at start
  std::string private_key_file;
};

enum class DeadbandType : std::uint8_t { kNone = 0, kAbsolute = 1, kPercent = 2 };  // OPC UA DeadbandType values

struct Deadband {
  DeadbandType type = DeadbandType::kNone;
  double value = 0;  // absolute: >= 0 in the variable's unit; percent: 0..100 of the EURange
};

// Monitored-item settings a node may override (unset: the source's value).
struct ItemOverrides {
  std::optional<int> sampling_interval_ms;
  std::optional<int> queue_size;
  std::optional<bool> discard_oldest;
  std::optional<Deadband> deadband;
};

// One segment of a browse path: "Name" (any namespace) or "N:Name".
struct PathSegment {
  std::optional<std::uint16_t> ns;
  std::string name;
  bool operator==(const PathSegment&) const = default;
};

// Parses a browse path from the Root folder: segments separated by '/', each "Name" or
// "N:Name" (N a namespace index, 0..65535); a leading "Root" segment is optional.
// Empty paths, empty segments ("a//b", a trailing '/'), an empty name after "N:" and
// namespace indexes out of range are errors (the message says which).
bool parse_browse_path(std::string_view text, std::vector<PathSegment>& out, std::string& error);

// An explicitly configured variable: by node_id or by browse_path (exactly one).
struct NodeConfig {
  std::string node_id;       // [ns=N;|nsu=URI;](i=|s=|g=|b=)VALUE
  std::string browse_path;   // e.g. "Objects/2:Plant/Line1/Speed" (see parse_browse_path)
  std::vector<PathSegment> path;  // browse_path parsed
  std::string tag_name, signal_type, unit;
  ItemOverrides item;
  config::Location location;
};

// Variables discovered under a root by browsing.
struct BrowseConfig {
  std::string root;            // browse path, e.g. "Objects/Plant"
  std::string pattern = "**";  // glob on the browse path below root
  int max_nodes = 10000;
  config::Location location;
};

struct Options : config::SourceOptions {
  std::string endpoint;  // opc.tcp://host[:port][/path]
  Mode mode = Mode::kSubscription;
  int publishing_interval_ms = 1000;
  int sampling_interval_ms = 500;  // 0 = as fast as the server can
  int queue_size = 1;              // monitored items: values kept per publishing interval
  bool discard_oldest = true;
  Deadband deadband;               // sent as a DataChangeFilter (trigger StatusValue) unless None
  int polling_interval_ms = 1000;
  int timeout_ms = 10000;           // connect and per request
  int publish_requests = 3;         // subscription: Publish requests kept outstanding
  int keep_alive_count = 10;        // subscription: keep-alive after this many empty intervals
  int session_timeout_ms = 60000;   // requested session timeout: how long a session outlives its connection
  int channel_lifetime_ms = 600000; // requested secure channel token lifetime (renewed at 75 %)
  Security security;
  std::vector<NodeConfig> nodes;
  std::vector<BrowseConfig> browse;
};

// True for the textual NodeId forms of OPC UA Part 6 §5.3.1.10 (with nsu= for
// a namespace given by URI).
bool is_valid_node_id(std::string_view text);

// The SourceParser for protocol "opcua". Returns an Options (null when unusable).
std::shared_ptr<const config::SourceOptions> parse_options(const config::Reader& node, config::Errors& errors);

}  // namespace uc::sources::opcua
