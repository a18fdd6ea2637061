#include "config/substitute.h"

#include <cstdlib>

namespace uc::config {
namespace {

bool is_env_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read once at load
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

bool is_valid_credential_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> whole_credential_reference(std::string_view text) {
  constexpr std::string_view kPrefix = "${credential:";
  if (text.size() < kPrefix.size() + 1 || text.substr(0, kPrefix.size()) != kPrefix || text.back() != '}') {
    return std::nullopt;
  }
  const std::string_view name = text.substr(kPrefix.size(), text.size() - kPrefix.size() - 1);
  if (name.find('}') != std::string_view::npos) return std::nullopt;
  return std::string(name);
}

Result<std::string> substitute_env(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return invalid_argument("unterminated \"${\" (write $${ for a literal \"${\")");
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const std::size_t colon = inner.find(':');
    const std::string_view kind = colon == std::string_view::npos ? inner : inner.substr(0, colon);
    const std::string_view name = colon == std::string_view::npos ? std::string_view{} : inner.substr(colon + 1);
    if (colon != std::string_view::npos && kind == "env") {
      if (!is_env_name(name)) {
        return invalid_argument("invalid environment variable name \"" + std::string(name) + "\"");
      }
      const std::optional<std::string> value = env ? env(std::string(name)) : std::nullopt;
      if (!value) return invalid_argument("environment variable \"" + std::string(name) + "\" is not set");
      out += *value;
    } else if (colon != std::string_view::npos && kind == "credential") {
      return invalid_argument("credential references are only allowed in secret fields");
    } else {
      return invalid_argument("unknown substitution \"${" + std::string(kind) +
                              "...}\"; expected ${env:NAME} or ${credential:NAME}");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace uc::config
