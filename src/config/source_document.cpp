#include "config/source_document.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "config/yaml_tree.h"

#include <yaml-cpp/yaml.h>

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

  nlohmann::json convert(const YamlNode& node, const std::string& path) const {
    if (is_secret(path) && node.is_scalar()) return kMaskedSecret;
    if (node.is_map()) {
      nlohmann::json out = nlohmann::json::object();
      for (std::size_t i = 0; i < node.size(); ++i) {
        const std::string key = node.key(i).is_scalar() ? std::string(node.key(i).scalar()) : std::string("?");
        out[key] = convert(node.value(i), path.empty() ? key : path + "." + key);
      }
      return out;
    }
    if (node.is_sequence()) {
      nlohmann::json out = nlohmann::json::array();
      for (std::size_t i = 0; i < node.size(); ++i) out.push_back(convert(node.item(i), path + "[" + std::to_string(i) + "]"));
      return out;
    }
    if (node.is_scalar()) {
      const std::string text(node.scalar());
      return node.is_plain() ? plain_scalar(text) : nlohmann::json(text);
    }
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
  if (!source.document_tree) return nlohmann::json::object();
  return Converter(source.secret_keys).convert(source.document_tree->node(source.document_node), "");
}

nlohmann::json yaml_document(const YAML::Node& node, const std::vector<std::string>& secret_keys) {
  const auto tree = YamlTree::parse(YAML::Dump(node));
  if (tree->documents() == 0) return nullptr;
  return Converter(secret_keys).convert(tree->document(0), "");
}

}  // namespace uc::config
