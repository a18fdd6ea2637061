#include "config/source_document.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

namespace uc::config {
namespace {

// A plain scalar as YAML 1.2's core schema reads it (null, bool, int, float), else text.
nlohmann::json plain_scalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const char* end = text.data() + text.size();
  std::int64_t i = 0;
  if (auto r = std::from_chars(text.data(), end, i); r.ec == std::errc() && r.ptr == end) return i;
  double d = 0;
  if (auto r = std::from_chars(text.data(), end, d); r.ec == std::errc() && r.ptr == end) return d;
  return text;
}

class Converter {
 public:
  explicit Converter(const std::vector<std::string>& secret_keys) : secrets_(secret_keys) {}

  nlohmann::json convert(const YAML::Node& node, const std::string& path) const {
    if (is_secret(path) && node.IsScalar()) return kMaskedSecret;
    if (node.IsMap()) {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) {
        const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
        out[key] = convert(kv.second, path.empty() ? key : path + "." + key);
      }
      return out;
    }
    if (node.IsSequence()) {
      nlohmann::json out = nlohmann::json::array();
      for (std::size_t i = 0; i < node.size(); ++i) out.push_back(convert(node[i], path + "[" + std::to_string(i) + "]"));
      return out;
    }
    if (node.IsScalar()) return node.Tag() == "?" ? plain_scalar(node.Scalar()) : nlohmann::json(node.Scalar());
    return nullptr;
  }

 private:
  bool is_secret(const std::string& path) const {
    return std::find(secrets_.begin(), secrets_.end(), path) != secrets_.end();
  }
  const std::vector<std::string>& secrets_;
};

}  // namespace

nlohmann::json source_document(const SourceConfig& source) {
  if (!source.document) return nlohmann::json::object();
  return yaml_document(*source.document, source.secret_keys);
}

nlohmann::json yaml_document(const YAML::Node& node, const std::vector<std::string>& secret_keys) {
  return Converter(secret_keys).convert(node, "");
}

}  // namespace uc::config
