#include "sources/mqtt/config.h"

#include "config/checks.h"
#include "config/loader.h"

namespace uc::sources::mqtt {
namespace {

using config::Reader;

void check_endpoint(const Reader& node, Options& out) {
  if (!node.has("endpoint")) {
    node.missing("endpoint");
    return;
  }
  const auto endpoint = node.peek_string("endpoint");
  if (!endpoint) return;  // reported by the loader
  std::string_view rest = *endpoint;
  bool secure = false;
  if (rest.rfind("mqtt://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("mqtts://", 0) == 0) {
    rest.remove_prefix(8);
    secure = true;
  } else {
    node.error_at("endpoint", "must start with mqtt:// or mqtts://, got " + config::quote(*endpoint));
    return;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const auto hp = config::parse_host_port(rest, secure ? 8883 : 1883);
  if (!hp) {
    node.error_at("endpoint", "invalid host or port in " + config::quote(*endpoint));
    return;
  }
  out.host = hp->host;
  out.port = hp->port;
  out.tls.enabled = secure;
}

bool valid_pointer(const std::string& p) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '~' && (i + 1 >= p.size() || (p[i + 1] != '0' && p[i + 1] != '1'))) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> check_topic_filter(std::string_view filter) {
  if (filter.empty()) return "topic filter must not be empty";
  if (filter.find('\0') != std::string_view::npos) return "topic filter must not contain NUL";
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = filter.find('/', start);
    const bool last = slash == std::string_view::npos;
    const std::string_view level = filter.substr(start, last ? std::string_view::npos : slash - start);
    if (level.find('#') != std::string_view::npos && (level != "#" || !last)) {
      return "invalid topic filter " + config::quote(filter) + ": \"#\" must be the last level and alone in it";
    }
    if (level.find('+') != std::string_view::npos && level != "+") {
      return "invalid topic filter " + config::quote(filter) + ": \"+\" must be alone in its level";
    }
    if (last) break;
    start = slash + 1;
  }
  return std::nullopt;
}

std::shared_ptr<const config::SourceOptions> parse_options(const Reader& node, config::Errors& /*errors*/) {
  node.check_keys(config::with_common_source_keys(
      {"client_id", "qos", "topics", "payload_format", "json", "username", "password", "tls", "clean_session",
       "mqtt_version", "keep_alive_s", "session_expiry_s", "max_packet_bytes", "sparkplug"}));
  auto out = std::make_shared<Options>();
  check_endpoint(node, *out);
  out->client_id = node.get_string("client_id", "");
  out->qos = static_cast<int>(node.get_int_or("qos", 1, 0, 2));
  if (const auto topics = node.child("topics"); !topics) {
    out->topics.push_back("#");
    node.note("topics not set: subscribing to \"#\" (every topic the broker lets this client read)");
  } else if (topics->is_null() || (topics->is_list() && topics->node().size() == 0)) {
    topics->error("must not be empty");
  } else {
    for (const Reader& item : topics->items()) {
      auto topic = item.as_string();
      if (!topic) continue;
      if (auto problem = check_topic_filter(*topic)) {
        item.error(std::move(*problem));
        continue;
      }
      out->topics.push_back(std::move(*topic));
    }
  }
  out->payload_format = node.get_enum<PayloadFormat>("payload_format",
                                                     {{"auto", PayloadFormat::kAuto},
                                                      {"json", PayloadFormat::kJson},
                                                      {"sparkplug_b", PayloadFormat::kSparkplugB},
                                                      {"text", PayloadFormat::kText}},
                                                     PayloadFormat::kAuto);
  if (auto json = node.get_object("json")) {
    json->check_keys({"value_field", "timestamp_field", "quality_field", "name_field", "tags", "max_points"});
    out->json.value_field = json->get_string("value_field", out->json.value_field);
    out->json.timestamp_field = json->get_string("timestamp_field", out->json.timestamp_field);
    out->json.quality_field = json->get_string("quality_field", out->json.quality_field);
    out->json.name_field = json->get_string("name_field", out->json.name_field);
    out->json.max_points = static_cast<std::size_t>(json->get_int_or("max_points", 10000, 1, 1000000));
    if (out->json.value_field.empty()) json->error_at("value_field", "must not be empty");
    if (const auto tags = json->child("tags"); tags && !tags->is_null()) {
      for (const Reader& item : tags->items()) {
        item.check_keys({"name", "pointer"});
        JsonTag tag;
        tag.name = item.get_string("name", "");
        tag.pointer = item.get_string("pointer", "");
        if (tag.name.empty()) item.missing("name");
        if (!tag.pointer.empty() && (tag.pointer.front() != '/' || !valid_pointer(tag.pointer))) {
          item.error_at("pointer", "invalid JSON pointer " + config::quote(tag.pointer) +
                                       ": must be empty or start with \"/\", \"~\" only as ~0 or ~1");
        }
        out->json.tags.push_back(std::move(tag));
      }
    }
  }
  const auto version = node.get_string("mqtt_version", "3.1.1");
  if (version == "3.1.1" || version == "4") {
    out->version = protocols::mqtt::Version::k311;
  } else if (version == "5" || version == "5.0") {
    out->version = protocols::mqtt::Version::k5;
  } else {
    node.error_at("mqtt_version", "must be \"3.1.1\" or \"5\", got " + config::quote(version));
  }
  out->keep_alive_s = static_cast<int>(node.get_int_or("keep_alive_s", 30, 2, 65535));
  out->session_expiry_s = static_cast<std::uint32_t>(node.get_int_or("session_expiry_s", 86400, 0, 4294967295LL));
  out->max_packet_bytes = static_cast<std::size_t>(node.get_int_or("max_packet_bytes", 16 << 20, 1024, 256 << 20));
  out->json.max_payload = out->max_packet_bytes;
  if (auto sp = node.get_object("sparkplug")) {
    sp->check_keys({"host_id", "rebirth_interval_ms", "send_rebirth"});
    out->sparkplug.host_id = sp->get_string("host_id", "");
    if (out->sparkplug.host_id.find_first_of("+/#") != std::string::npos) {
      sp->error_at("host_id", "must not contain '+', '/' or '#'");
    }
    out->sparkplug.rebirth_interval_ms = static_cast<int>(sp->get_int_or("rebirth_interval_ms", 5000, 0, 3600000));
    out->sparkplug.send_rebirth = sp->get_bool("send_rebirth", true);
  }
  out->username = node.get_secret("username");
  out->password = node.get_secret("password");
  if (out->password.is_set() && !out->username.is_set()) node.error("password is set but username is not");
  if (auto tls = node.get_object("tls")) {
    tls->check_keys({"enabled", "ca_file", "cert_file", "key_file"});
    out->tls.enabled = tls->get_bool("enabled", out->tls.enabled);
    out->tls.ca_file = tls->get_string("ca_file", "");
    out->tls.cert_file = tls->get_string("cert_file", "");
    out->tls.key_file = tls->get_string("key_file", "");
    if (out->tls.cert_file.empty() != out->tls.key_file.empty()) {
      tls->error("cert_file and key_file must be given together");
    }
  }
  out->clean_session = node.get_bool("clean_session", true);
  if (!out->clean_session && out->client_id.empty()) {
    node.error_at("clean_session", "a persistent session (clean_session: false) needs a fixed client_id");
  }
  return out;
}

}  // namespace uc::sources::mqtt
