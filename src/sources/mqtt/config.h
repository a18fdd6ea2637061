// Options of an MQTT source (SPEC §4, Appendix A). Validated at load; used by the
// MQTT source when it starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/reader.h"
#include "protocols/mqtt/codec.h"
#include "sources/mqtt/payload.h"

namespace uc::sources::mqtt {

enum class PayloadFormat : std::uint8_t { kAuto, kJson, kSparkplugB, kText };

// Sparkplug B host behaviour (SPEC §4; research protocols.md §5.3).
struct SparkplugOptions {
  std::string host_id;  // non-empty: publish primary-host STATE on spBv1.0/STATE/<host_id> (v3.0)
  int rebirth_interval_ms = 5000;  // at most one rebirth NCMD per edge node per interval
  bool send_rebirth = true;        // request a rebirth on a seq gap or an unknown alias
};

struct Tls {
  bool enabled = false;  // true as well for an mqtts:// endpoint
  std::string ca_file, cert_file, key_file;
};

struct Options : config::SourceOptions {
  std::string host;
  int port = 1883;  // default 1883, or 8883 for mqtts://
  std::string client_id;  // empty: generated at start
  int qos = 1;
  std::vector<std::string> topics;  // valid topic filters, at least one
  PayloadFormat payload_format = PayloadFormat::kAuto;
  JsonMapping json;
  SparkplugOptions sparkplug;
  protocols::mqtt::Version version = protocols::mqtt::Version::k311;
  int keep_alive_s = 30;
  std::uint32_t session_expiry_s = 86400;  // MQTT 5 with clean_session: false
  std::size_t max_packet_bytes = 16u << 20;
  config::Secret username;
  config::Secret password;
  Tls tls;
  bool clean_session = true;
};

// nullopt when filter is a valid MQTT topic filter ('#' only as the whole last
// level, '+' only as a whole level); otherwise the problem.
std::optional<std::string> check_topic_filter(std::string_view filter);

// The SourceParser for protocol "mqtt".
std::shared_ptr<const config::SourceOptions> parse_options(const config::Reader& node, config::Errors& errors);

}  // namespace uc::sources::mqtt
