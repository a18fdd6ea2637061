#include "core/record.h"

namespace uc {

const char* quality_name(Quality q) {
  switch (q) {
    case Quality::kGood: return "good";
    case Quality::kUncertain: return "uncertain";
    case Quality::kBad: return "bad";
  }
  return "bad";
}

std::size_t Record::approx_bytes() const {
  std::size_t n = 64 + value_str.size();
  if (tag) {
    n += tag->source_name.size() + tag->protocol.size() + tag->endpoint.size() + tag->tag_path.size() +
         tag->tag_name.size() + tag->address.size() + tag->site.size() + tag->area.size() + tag->line.size() +
         tag->equipment.size() + tag->signal_type.size() + tag->unit.size();
    for (const auto& [k, v] : tag->metadata) n += k.size() + v.size() + 4;
  }
  for (const auto& [k, v] : metadata) n += k.size() + v.size() + 4;
  return n;
}

}  // namespace uc
