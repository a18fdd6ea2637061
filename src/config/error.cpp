#include "config/error.h"

#include <algorithm>
#include <utility>

namespace uc::config {

std::string ConfigError::to_string() const {
  std::string out = file;
  out += ':';
  out += std::to_string(line);
  out += ':';
  out += std::to_string(column);
  out += ": ";
  if (!key_path.empty()) {
    out += key_path;
    out += ": ";
  }
  out += message;
  return out;
}

namespace {

// One character of a JSON pointer's reference token (RFC 6901: '~' is ~0, '/' is ~1).
void append_escaped(std::string& out, char c) {
  if (c == '~') {
    out += "~0";
  } else if (c == '/') {
    out += "~1";
  } else {
    out += c;
  }
}

}  // namespace

std::string json_pointer(std::string_view key_path) {
  std::string out;
  bool segment_start = true;
  for (char c : key_path) {
    if (segment_start) out += '/';
    segment_start = false;
    if (c == '.' || c == '[') {
      segment_start = true;
    } else if (c != ']') {  // ']' ends an index; a '.' or '[' follows, or nothing
      append_escaped(out, c);
    }
  }
  return out;
}

void Errors::add(ConfigError error) { errors_.push_back(std::move(error)); }

void write_capped(std::ostream& out, const std::vector<ConfigError>& errors, std::size_t limit,
                  std::string_view prefix) {
  const std::size_t shown = std::min(limit, errors.size());
  for (std::size_t i = 0; i < shown; ++i) out << prefix << errors[i].to_string() << '\n';
  if (shown < errors.size()) out << prefix << "\u2026 and " << errors.size() - shown << " more\n";
}

std::string json_pointer(const ConfigError& error) {
  std::string out = json_pointer(error.key_path);
  if (error.key.empty()) return out;
  out += '/';
  for (char c : error.key) append_escaped(out, c);
  return out;
}

namespace {

ConfigError at(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message,
               std::string key = {}) {
  ConfigError e;
  e.file = file;
  if (mark.line >= 0 && mark.column >= 0) {
    e.line = mark.line + 1;
    e.column = mark.column + 1;
  }
  e.key_path = std::move(key_path);
  e.message = std::move(message);
  e.key = std::move(key);
  return e;
}

}  // namespace

void Errors::add(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message,
                 std::string key) {
  errors_.push_back(at(file, mark, std::move(key_path), std::move(message), std::move(key)));
}

void Errors::add_note(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message) {
  notes_.push_back(at(file, mark, std::move(key_path), std::move(message)));
}

}  // namespace uc::config
