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

namespace uc::sources::mqtt {

enum class PayloadFormat : std::uint8_t { kAuto, kJson, kSparkplugB, kText };

// Where the fields of a JSON payload are.
struct JsonFields {
  std::string value_field = "value";
  std::string timestamp_field = "timestamp";
  std::string quality_field = "quality";
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
  JsonFields json;
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
