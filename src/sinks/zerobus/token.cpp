#include "sinks/zerobus/token.h"

#include <curl/curl.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace uc::sinks::zerobus {
namespace {

constexpr std::size_t kMaxBody = 64 * 1024;

struct Body {
  std::string data;
  bool overflow = false;
};

std::size_t on_data(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* b = static_cast<Body*>(user);
  std::size_t len = size * n;
  if (b->data.size() + len > kMaxBody) {
    b->overflow = true;
    return 0;  // aborts the transfer
  }
  b->data.append(ptr, len);
  return len;
}

std::string escape(CURL* curl, const std::string& s) {
  char* e = curl_easy_escape(curl, s.c_str(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

struct CurlInit {
  CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

std::string workspace_id_from_endpoint(std::string_view endpoint) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (endpoint.substr(0, scheme.size()) == scheme) endpoint.remove_prefix(scheme.size());
  }
  std::size_t end = endpoint.find_first_of(".:/");
  return std::string(endpoint.substr(0, end));
}

std::string token_form(const std::string& workspace_id, const std::string& table) {
  std::string catalog = table.substr(0, table.find('.'));
  std::string schema = table.substr(0, table.rfind('.'));
  nlohmann::json details = nlohmann::json::array(
      {{{"type", "unity_catalog_privileges"}, {"privileges", {"USE CATALOG"}}, {"object_type", "CATALOG"},
        {"object_full_path", catalog}},
       {{"type", "unity_catalog_privileges"}, {"privileges", {"USE SCHEMA"}}, {"object_type", "SCHEMA"},
        {"object_full_path", schema}},
       {{"type", "unity_catalog_privileges"}, {"privileges", {"SELECT", "MODIFY"}}, {"object_type", "TABLE"},
        {"object_full_path", table}}});
  CURL* curl = curl_easy_init();
  std::string form = "grant_type=client_credentials&scope=all-apis&resource=" +
                     escape(curl, "api://databricks/workspaces/" + workspace_id + "/zerobusDirectWriteApi") +
                     "&authorization_details=" + escape(curl, details.dump());
  curl_easy_cleanup(curl);
  return form;
}

Result<Token> parse_token_response(std::string_view body, std::int64_t now_us) {
  if (body.size() > kMaxBody) return Status(StatusCode::kUnavailable, "token response over 64 KiB");
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status(StatusCode::kUnavailable, "token response is not a JSON object");
  auto at = j.find("access_token");
  if (at == j.end() || !at->is_string() || at->get<std::string>().empty()) {
    return Status(StatusCode::kUnavailable, "token response has no access_token");
  }
  std::int64_t lifetime_s = 3600;
  if (auto e = j.find("expires_in"); e != j.end()) {
    if (e->is_number_unsigned()) {
      lifetime_s = static_cast<std::int64_t>(std::min<std::uint64_t>(e->get<std::uint64_t>(), 86'400));
    } else if (e->is_number_integer()) {
      lifetime_s = e->get<std::int64_t>();
    } else if (e->is_number()) {
      // Clamped as a double first: casting 1e30 to an integer is undefined behaviour.
      lifetime_s = static_cast<std::int64_t>(std::clamp(e->get<double>(), 1.0, 86'400.0));
    } else {
      return Status(StatusCode::kUnavailable, "token response expires_in is not a number");
    }
  }
  lifetime_s = std::clamp<std::int64_t>(lifetime_s, 1, 86'400);
  Token t;
  t.access_token = at->get<std::string>();
  t.lifetime_us = lifetime_s * 1'000'000;
  t.expires_at_us = now_us + t.lifetime_us;
  return t;
}

TokenProvider::TokenProvider(std::string workspace_host, std::string workspace_id, std::string client_id,
                             std::string client_secret, std::int64_t http_timeout_ms)
    : workspace_id_(std::move(workspace_id)),
      client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)),
      http_timeout_ms_(http_timeout_ms) {
  while (!workspace_host.empty() && workspace_host.back() == '/') workspace_host.pop_back();
  url_ = workspace_host + "/oidc/v1/token";
  static CurlInit init;
}

Result<Token> TokenProvider::fetch(const std::string& table, std::int64_t now_us) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return internal_error("curl_easy_init failed");
  Body body;
  std::string form = token_form(workspace_id_, table);
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(curl, CURLOPT_USERNAME, client_id_.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, client_secret_.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(http_timeout_ms_));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded");
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (body.overflow) return Status(StatusCode::kUnavailable, "token endpoint " + url_ + ": response over 64 KiB");
  if (rc != CURLE_OK) {
    return Status(StatusCode::kUnavailable, "token endpoint " + url_ + ": " + curl_easy_strerror(rc));
  }
  if (http >= 400 && http < 500) {
    return Status(StatusCode::kUnauthenticated,
                  "token endpoint " + url_ + " answered HTTP " + std::to_string(http) + ": " + body.data.substr(0, 200));
  }
  if (http != 200) {
    return Status(StatusCode::kUnavailable, "token endpoint " + url_ + " answered HTTP " + std::to_string(http));
  }
  auto t = parse_token_response(body.data, now_us);
  if (!t.is_ok()) return Status(t.status().code(), "token endpoint " + url_ + ": " + t.status().message());
  return t;
}

Result<std::string> TokenProvider::get(const std::string& table, std::int64_t now_us) {
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(table);
    if (it != cache_.end()) {
      std::int64_t margin = std::min<std::int64_t>(300'000'000, it->second.lifetime_us / 3);
      if (now_us < it->second.expires_at_us - margin) return it->second.access_token;
    }
  }
  auto t = fetch(table, now_us);
  if (!t.is_ok()) return t.status();
  std::lock_guard lock(mu_);
  ++fetched_;
  cache_[table] = *t;
  return t->access_token;
}

void TokenProvider::invalidate(const std::string& table) {
  std::lock_guard lock(mu_);
  cache_.erase(table);
}

std::uint64_t TokenProvider::fetched() const {
  std::lock_guard lock(mu_);
  return fetched_;
}

}  // namespace uc::sinks::zerobus
