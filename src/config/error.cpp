#include "config/error.h"

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

void Errors::add(ConfigError error) { errors_.push_back(std::move(error)); }

namespace {

ConfigError at(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message) {
  ConfigError e;
  e.file = file;
  if (mark.line >= 0 && mark.column >= 0) {
    e.line = mark.line + 1;
    e.column = mark.column + 1;
  }
  e.key_path = std::move(key_path);
  e.message = std::move(message);
  return e;
}

}  // namespace

void Errors::add(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message) {
  errors_.push_back(at(file, mark, std::move(key_path), std::move(message)));
}

void Errors::add_note(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message) {
  notes_.push_back(at(file, mark, std::move(key_path), std::move(message)));
}

}  // namespace uc::config
