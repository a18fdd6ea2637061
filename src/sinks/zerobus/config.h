// Options of one Zerobus sink instance (one target table), built from the `zerobus:`
// section by the app. No I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "core/record_codec.h"
#include "core/status.h"

namespace uc::sinks::zerobus {

struct Options {
  std::string table;           // catalog.schema.table: three non-empty parts
  std::string endpoint;        // host[:port], "https://" optional; port 443 when absent
  std::string workspace_host;  // the token endpoint's base URL
  bool tls = true;             // false only for a local test server
  RecordFormat format = RecordFormat::kProto;
  std::int64_t ack_timeout_ms = 60'000;     // in-flight requests with no ack progress → new stream
  std::int64_t create_timeout_ms = 15'000;  // create_stream_response must come within this
  std::size_t max_record_bytes = 10 * 1024 * 1024;  // larger records are rejected before sending
};

// The gRPC target ("host:port") of the endpoint.
std::string grpc_target(const std::string& endpoint);

// Checks a table name and the options; the error names what is wrong.
Status validate(const Options& o);

// The options of the sink for one target table of the config.
Options options_for(const config::ZerobusConfig& cfg, const config::TableName& table);

}  // namespace uc::sinks::zerobus
