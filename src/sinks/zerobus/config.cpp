#include "sinks/zerobus/config.h"

namespace uc::sinks::zerobus {

std::string grpc_target(const std::string& endpoint) {
  std::string e = endpoint;
  for (const char* scheme : {"https://", "http://"}) {
    std::string s = scheme;
    if (e.rfind(s, 0) == 0) e = e.substr(s.size());
  }
  while (!e.empty() && e.back() == '/') e.pop_back();
  bool has_port = false;
  if (auto colon = e.rfind(':'); colon != std::string::npos && e.find(']') == std::string::npos) {
    has_port = colon + 1 < e.size();
  } else if (auto b = e.rfind("]:"); b != std::string::npos) {
    has_port = true;
  }
  return has_port ? e : e + ":443";
}

Status validate(const Options& o) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = o.table.find('.', start);
    std::string part = o.table.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) return invalid_argument("table name \"" + o.table + "\" must be catalog.schema.table");
    ++parts;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts != 3) return invalid_argument("table name \"" + o.table + "\" must be catalog.schema.table");
  if (o.endpoint.empty()) return invalid_argument("endpoint is empty");
  if (o.workspace_host.empty()) return invalid_argument("workspace_host is empty");
  if (o.ack_timeout_ms <= 0 || o.create_timeout_ms <= 0) return invalid_argument("timeouts must be positive");
  return Status::ok();
}

Options options_for(const config::ZerobusConfig& cfg, const config::TableName& table) {
  Options o;
  o.table = table.full_name();
  o.endpoint = cfg.endpoint;
  o.workspace_host = cfg.workspace_host;
  o.tls = cfg.tls;
  o.format = cfg.record_format;
  o.ack_timeout_ms = cfg.ack_timeout_ms;
  o.create_timeout_ms = cfg.create_timeout_ms;
  return o;
}

}  // namespace uc::sinks::zerobus
