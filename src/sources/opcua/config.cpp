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

}  // namespace

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
                                                   "backoff_initial_ms", "backoff_max_ms", "publish_requests",
                                                   "keep_alive_count", "session_timeout_ms", "channel_lifetime_ms"}));
  auto out = std::make_shared<Options>();
  check_endpoint(node, *out);
  out->mode = node.get_enum<Mode>("mode", {{"subscription", Mode::kSubscription}, {"polling", Mode::kPolling}},
                                  Mode::kSubscription);
  constexpr std::int64_t kHour = 3600000;
  out->publishing_interval_ms = static_cast<int>(node.get_int_or("publishing_interval_ms", 1000, 1, kHour));
  out->sampling_interval_ms = static_cast<int>(node.get_int_or("sampling_interval_ms", 500, 0, kHour));
  out->polling_interval_ms = static_cast<int>(node.get_int_or("polling_interval_ms", 1000, 10, kHour));
  out->timeout_ms = static_cast<int>(node.get_int_or("timeout_ms", 10000, 100, kHour));
  out->publish_requests = static_cast<int>(node.get_int_or("publish_requests", 3, 1, 20));
  out->keep_alive_count = static_cast<int>(node.get_int_or("keep_alive_count", 10, 1, 1000));
  out->session_timeout_ms = static_cast<int>(node.get_int_or("session_timeout_ms", 60000, 1000, kHour));
  out->channel_lifetime_ms = static_cast<int>(node.get_int_or("channel_lifetime_ms", 600000, 1000, kHour));
  out->backoff_initial_ms = static_cast<int>(node.get_int_or("backoff_initial_ms", 500, 1, kHour));
  out->backoff_max_ms = static_cast<int>(node.get_int_or("backoff_max_ms", 30000, 1, kHour));
  if (out->backoff_max_ms < out->backoff_initial_ms) {
    node.error_at("backoff_max_ms", "must not be less than backoff_initial_ms (" +
                                        std::to_string(out->backoff_initial_ms) + ")");
  }
  if (auto security = node.get_object("security")) parse_security(*security, out->security);

  for (const Reader& item : node.get_list("nodes")) {
    if (!item.is_map()) {
      item.error("expected a map, got " + item.describe());
      continue;
    }
    item.check_keys({"node_id", "tag_name", "signal_type", "unit"});
    NodeConfig n;
    n.location = item.location();
    if (auto id = item.require_string("node_id")) {
      if (!is_valid_node_id(*id)) {
        item.error_at("node_id", "invalid node id " + config::quote(*id) +
                                     "; expected [ns=N;|nsu=URI;] followed by i=, s=, g= or b=");
        continue;
      }
      n.node_id = *id;
    } else {
      continue;
    }
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
  if (!node.has("nodes") && !node.has("browse")) node.error("at least one of nodes or browse is required");
  return out;
}

}  // namespace uc::sources::opcua
