#include "sources/opcua/config.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "config/checks.h"
#include "config/loader.h"

namespace uc::sources::opcua {
namespace {

using config::Reader;

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_decimal(std::string_view s, std::uint64_t max) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 10) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && v <= max;
}

bool is_guid(std::string_view s) {
  // 8-4-4-4-12 hex digits
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool is_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  const std::size_t pad = s.find('=');
  if (pad != std::string_view::npos && (pad < s.size() - 2 || s.substr(pad).find_first_not_of('=') != std::string_view::npos)) {
    return false;
  }
  return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(pad == std::string_view::npos ? s.size() : pad),
                     [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                              c == '/';
                     });
}

bool is_identifier(std::string_view s) {
  if (s.size() < 3 || s[1] != '=') return false;
  const std::string_view value = s.substr(2);
  switch (s[0]) {
    case 'i': return is_decimal(value, 0xFFFFFFFFULL);
    case 's': return true;
    case 'g': return is_guid(value);
    case 'b': return is_base64(value);
    default: return false;
  }
}

void check_endpoint(const Reader& node, Options& out) {
  if (!node.has("endpoint")) {
    node.missing("endpoint");
    return;
  }
  const auto endpoint = node.peek_string("endpoint");
  if (!endpoint) return;  // reported by the loader
  constexpr std::string_view kScheme = "opc.tcp://";
  if (endpoint->rfind(kScheme, 0) != 0) {
    node.error_at("endpoint", "must start with opc.tcp://, got " + config::quote(*endpoint));
    return;
  }
  const std::string_view rest = std::string_view(*endpoint).substr(kScheme.size());
  if (!config::parse_host_port(rest.substr(0, rest.find('/')), 4840)) {
    node.error_at("endpoint", "invalid host or port in " + config::quote(*endpoint));
    return;
  }
  out.endpoint = *endpoint;
}

void parse_security(const Reader& r, Security& out) {
  r.check_keys({"policy", "mode", "username", "password", "certificate_file", "private_key_file"});
  out.policy = r.get_enum<SecurityPolicy>("policy",
                                          {{"None", SecurityPolicy::kNone},
                                           {"Basic256Sha256", SecurityPolicy::kBasic256Sha256},
                                           {"Aes128_Sha256_RsaOaep", SecurityPolicy::kAes128Sha256RsaOaep}},
                                          SecurityPolicy::kNone);
  out.mode = r.get_enum<SecurityMode>(
      "mode",
      {{"None", SecurityMode::kNone}, {"Sign", SecurityMode::kSign}, {"SignAndEncrypt", SecurityMode::kSignAndEncrypt}},
      SecurityMode::kNone);
  out.username = r.get_secret("username");
  out.password = r.get_secret("password");
  out.certificate_file = r.get_string("certificate_file", "");
  out.private_key_file = r.get_string("private_key_file", "");
  if (r.has("policy") && r.has("mode")) {
    if (out.policy == SecurityPolicy::kNone && out.mode != SecurityMode::kNone) {
      r.error_at("mode", "mode must be None when policy is None");
    } else if (out.policy != SecurityPolicy::kNone && out.mode == SecurityMode::kNone) {
      r.error_at("mode", "mode must be Sign or SignAndEncrypt when policy is not None");
    }
  } else if (r.has("policy") && out.policy != SecurityPolicy::kNone) {
    out.mode = SecurityMode::kSignAndEncrypt;
  }
  if (out.certificate_file.empty() != out.private_key_file.empty()) {
    r.error("certificate_file and private_key_file must be given together");
  }
  if (out.password.is_set() && !out.username.is_set()) r.error("password is set but username is not");
}

// deadband: {type: none|absolute|percent, value: X}
std::optional<Deadband> parse_deadband(const Reader& parent) {
  const auto r = parent.get_object("deadband");
  if (!r) return std::nullopt;
  r->check_keys({"type", "value"});
  Deadband d;
  if (!r->has("type")) {
    r->missing("type");
    return std::nullopt;
  }
  const auto type = r->get_enum("type", {"none", "absolute", "percent"});
  if (!type) return std::nullopt;
  d.type = *type == "absolute" ? DeadbandType::kAbsolute
           : *type == "percent" ? DeadbandType::kPercent
                                : DeadbandType::kNone;
  if (d.type == DeadbandType::kNone) {
    if (r->has("value")) r->error_at("value", "must not be given when type is none");
    return d;
  }
  if (!r->has("value")) {
    r->missing("value");
    return std::nullopt;
  }
  const auto value = r->get_double("value");
  if (!value) return std::nullopt;
  if (d.type == DeadbandType::kAbsolute && *value < 0) {
    r->error_at("value", "an absolute deadband must be >= 0, got " + r->child("value")->raw_scalar());
    return std::nullopt;
  }
  if (d.type == DeadbandType::kPercent && (*value < 0 || *value > 100)) {
    r->error_at("value", "a percent deadband must be between 0 and 100, got " + r->child("value")->raw_scalar());
    return std::nullopt;
  }
  d.value = *value;
  return d;
}

constexpr std::int64_t kHour = 3600000;
constexpr std::int64_t kMaxQueue = 65535;

}  // namespace

bool parse_browse_path(std::string_view text, std::vector<PathSegment>& out, std::string& error) {
  out.clear();
  if (text.empty()) {
    error = "must not be empty";
    return false;
  }
  if (text.size() > 4096) {
    error = "is longer than 4096 characters";
    return false;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = text.find('/', start);
    const std::string_view seg = text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) {
      error = "has an empty segment at character " + std::to_string(start + 1);
      return false;
    }
    PathSegment p;
    const std::size_t colon = seg.find(':');
    const std::string_view prefix = colon == std::string_view::npos ? std::string_view() : seg.substr(0, colon);
    if (!prefix.empty() && prefix.find_first_not_of("0123456789") == std::string_view::npos) {
      if (!is_decimal(prefix, 0xFFFF)) {
        error = "segment " + config::quote(std::string(seg)) + ": namespace index must be 0..65535";
        return false;
      }
      std::uint64_t ns = 0;
      std::from_chars(prefix.data(), prefix.data() + prefix.size(), ns);
      p.ns = static_cast<std::uint16_t>(ns);
      p.name = std::string(seg.substr(colon + 1));
      if (p.name.empty()) {
        error = "segment " + config::quote(std::string(seg)) + " has no name after the namespace index";
        return false;
      }
    } else {
      p.name = std::string(seg);
    }
    if (!(out.empty() && !p.ns && p.name == "Root")) out.push_back(std::move(p));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (out.empty()) {
    error = "names no node below Root";
    return false;
  }
  return true;
}

bool is_valid_node_id(std::string_view text) {
  std::string_view s = text;
  if (s.rfind("ns=", 0) == 0) {
    const std::size_t semi = s.find(';');
    if (semi == std::string_view::npos || !is_decimal(s.substr(3, semi - 3), 0xFFFF)) return false;
    s.remove_prefix(semi + 1);
  } else if (s.rfind("nsu=", 0) == 0) {
    // The URI ends at the first ";X=" that starts an identifier.
    std::size_t semi = 4;
    while (true) {
      semi = s.find(';', semi);
      if (semi == std::string_view::npos) return false;
      if (semi + 2 < s.size() && s[semi + 2] == '=' && std::string_view("isgb").find(s[semi + 1]) != std::string_view::npos) {
        break;
      }
      ++semi;
    }
    if (semi == 4) return false;
    s.remove_prefix(semi + 1);
  }
  return is_identifier(s);
}

std::shared_ptr<const config::SourceOptions> parse_options(const Reader& node, config::Errors& /*errors*/) {
  node.check_keys(config::with_common_source_keys({"mode", "publishing_interval_ms", "sampling_interval_ms",
                                                   "polling_interval_ms", "security", "nodes", "browse", "timeout_ms",
                                                   "publish_requests",
                                                   "keep_alive_count", "session_timeout_ms", "channel_lifetime_ms",
                                                   "queue_size", "discard_oldest", "deadband"}));
  auto out = std::make_shared<Options>();
  check_endpoint(node, *out);
  out->mode = node.get_enum<Mode>("mode", {{"subscription", Mode::kSubscription}, {"polling", Mode::kPolling}},
                                  Mode::kSubscription);
  out->publishing_interval_ms = static_cast<int>(node.get_int_or("publishing_interval_ms", 1000, 1, kHour));
  out->sampling_interval_ms = static_cast<int>(node.get_int_or("sampling_interval_ms", 500, 0, kHour));
  out->queue_size = static_cast<int>(node.get_int_or("queue_size", 1, 1, kMaxQueue));
  out->discard_oldest = node.get_bool("discard_oldest", true);
  if (auto d = parse_deadband(node)) out->deadband = *d;
  out->polling_interval_ms = static_cast<int>(node.get_int_or("polling_interval_ms", 1000, 10, kHour));
  out->timeout_ms = static_cast<int>(node.get_int_or("timeout_ms", 10000, 100, kHour));
  out->publish_requests = static_cast<int>(node.get_int_or("publish_requests", 3, 1, 20));
  out->keep_alive_count = static_cast<int>(node.get_int_or("keep_alive_count", 10, 1, 1000));
  out->session_timeout_ms = static_cast<int>(node.get_int_or("session_timeout_ms", 60000, 1000, kHour));
  out->channel_lifetime_ms = static_cast<int>(node.get_int_or("channel_lifetime_ms", 600000, 1000, kHour));
  if (auto security = node.get_object("security")) parse_security(*security, out->security);

  for (const Reader& item : node.get_list("nodes")) {
    if (!item.is_map()) {
      item.error("expected a map, got " + item.describe());
      continue;
    }
    item.check_keys({"node_id", "browse_path", "tag_name", "signal_type", "unit", "sampling_interval_ms", "queue_size",
                     "discard_oldest", "deadband"});
    NodeConfig n;
    n.location = item.location();
    const bool by_id = item.has("node_id");
    const bool by_path = item.has("browse_path");
    if (by_id == by_path) {
      item.error(by_id ? "give either node_id or browse_path, not both" : "one of node_id or browse_path is required");
      continue;
    }
    if (by_id) {
      const auto id = item.get_string("node_id");
      if (!id) continue;
      if (!is_valid_node_id(*id)) {
        item.error_at("node_id", "invalid node id " + config::quote(*id) +
                                     "; expected [ns=N;|nsu=URI;] followed by i=, s=, g= or b=");
        continue;
      }
      n.node_id = *id;
    } else {
      const auto path = item.get_string("browse_path");
      if (!path) continue;
      std::string why;
      if (!parse_browse_path(*path, n.path, why)) {
        item.error_at("browse_path", "browse path " + config::quote(*path) + " " + why +
                                         "; expected segments Name or N:Name separated by /");
        continue;
      }
      n.browse_path = *path;
    }
    if (auto v = item.get_int("sampling_interval_ms", 0, kHour)) n.item.sampling_interval_ms = static_cast<int>(*v);
    if (auto v = item.get_int("queue_size", 1, kMaxQueue)) n.item.queue_size = static_cast<int>(*v);
    n.item.discard_oldest = item.get_bool("discard_oldest");
    n.item.deadband = parse_deadband(item);
    n.tag_name = item.get_string("tag_name", "");
    n.signal_type = item.get_string("signal_type", "");
    n.unit = item.get_string("unit", "");
    out->nodes.push_back(std::move(n));
  }
  for (const Reader& item : node.get_list("browse")) {
    if (!item.is_map()) {
      item.error("expected a map, got " + item.describe());
      continue;
    }
    item.check_keys({"root", "pattern", "max_nodes"});
    BrowseConfig b;
    b.location = item.location();
    const auto root = item.require_string("root");
    if (root && root->empty()) item.error_at("root", "must not be empty");
    b.root = root.value_or("");
    b.pattern = item.get_string("pattern", "**");
    if (b.pattern.empty()) item.error_at("pattern", "must not be empty");
    b.max_nodes = static_cast<int>(item.get_int_or("max_nodes", 10000, 1, 1000000));
    out->browse.push_back(std::move(b));
  }
  if (!node.has("nodes") && !node.has("browse")) {  // as the prototype did: everything below Objects
    BrowseConfig b;
    b.root = "Objects";
    b.location = node.location();
    out->browse.push_back(std::move(b));
    node.note("neither nodes nor browse: every variable below Objects is read (browse root \"Objects\", up to " +
              std::to_string(out->browse.back().max_nodes) + " nodes)");
  }
  return out;
}

}  // namespace uc::sources::opcua
