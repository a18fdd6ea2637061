// OAuth 2.0 client credentials for Zerobus: one token per table, cached and refreshed
// before it expires. POST {workspace_host}/oidc/v1/token with HTTP Basic auth and the
// form fields grant_type=client_credentials, scope=all-apis,
// resource=api://databricks/workspaces/{workspace_id}/zerobusDirectWriteApi and
// authorization_details (USE CATALOG, USE SCHEMA, SELECT+MODIFY on the table).
// HTTP 4xx → UNAUTHENTICATED (not retryable by itself); 5xx and network errors →
// UNAVAILABLE. The response body is untrusted: at most 64 KiB, must be a JSON object
// with a string access_token; expires_in is clamped to [1 s, 24 h] (default 1 h).
// Thread-safe: the sink thread and the diagnostics endpoint may both ask.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace uc::sinks::zerobus {

struct Token {
  std::string access_token;
  std::int64_t expires_at_us = 0;
  std::int64_t lifetime_us = 0;
};

// The first DNS label of the Zerobus endpoint (scheme and port removed).
std::string workspace_id_from_endpoint(std::string_view endpoint);

// The form body of the token request (exposed for tests).
std::string token_form(const std::string& workspace_id, const std::string& table);

// Parses a token endpoint response body. now_us anchors expires_in.
Result<Token> parse_token_response(std::string_view body, std::int64_t now_us);

class TokenProvider {
 public:
  TokenProvider(std::string workspace_host, std::string workspace_id, std::string client_id,
                std::string client_secret, std::int64_t http_timeout_ms = 10'000);

  // A valid token for the table: the cached one unless it is within the refresh margin
  // of its expiry (5 min, or a third of its lifetime for short-lived tokens).
  Result<std::string> get(const std::string& table, std::int64_t now_us);
  // Forgets the table's token (after the server rejected it).
  void invalidate(const std::string& table);
  std::uint64_t fetched() const;

  Result<Token> fetch(const std::string& table, std::int64_t now_us) const;

 private:
  std::string url_, workspace_id_, client_id_, client_secret_;
  std::int64_t http_timeout_ms_;
  mutable std::mutex mu_;
  std::map<std::string, Token> cache_;
  std::uint64_t fetched_ = 0;
};

}  // namespace uc::sinks::zerobus
