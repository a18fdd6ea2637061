#include "normalize/config.h"

namespace uc::normalize {
namespace {

TagMapping mapping_from(const config::TagMapping& m) {
  TagMapping t;
  t.source = m.source;
  t.address = m.address;
  t.tag_name = m.tag_name;
  t.signal_type = m.signal_type;
  t.unit = m.unit;
  t.site = m.site;
  t.area = m.area;
  t.line = m.line;
  t.equipment = m.equipment;
  if (m.eng_range) {
    t.eng_low = m.eng_range->first;
    t.eng_high = m.eng_range->second;
  }
  return t;
}

}  // namespace

Options options_from(const config::Config& cfg) {
  Options o;
  const auto& n = cfg.normalization;
  o.enabled = n.enabled;
  o.path_template = n.path_template;
  o.defaults = {n.default_context.site, n.default_context.area, n.default_context.line, n.default_context.equipment};
  for (const auto& r : n.rules) {
    Rule rule;
    rule.protocol = r.protocol;
    rule.source = r.source;
    rule.field = r.field;
    rule.pattern = r.pattern;
    o.rules.push_back(std::move(rule));
  }
  for (const auto& m : n.mappings) o.mappings.push_back(mapping_from(m));
  o.connector_name = cfg.connector.name;
  return o;
}

SourceInfo source_info_from(const config::SourceConfig& source) {
  SourceInfo info;
  info.name = source.name;
  info.protocol = source.protocol;
  info.endpoint = source.endpoint;
  info.context = {source.site, source.area, source.line, source.equipment};
  info.path_template = source.path_template;
  return info;
}

}  // namespace uc::normalize
