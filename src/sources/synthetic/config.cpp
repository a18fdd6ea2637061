#include "sources/synthetic/config.h"

#include <set>

#include "config/loader.h"

namespace uc::sources::synthetic {

std::shared_ptr<const config::SourceOptions> parse_options(const config::Reader& node, config::Errors& /*errors*/) {
  std::vector<std::string> allowed = config::common_source_keys();
  for (const char* k : {"tag_count", "generators", "tags", "interval_ms", "max_ticks", "seed"}) allowed.emplace_back(k);
  node.check_keys(allowed);

  auto out = std::make_shared<SyntheticOptions>();
  Options& o = out->options;
  o.tag_count = static_cast<std::uint32_t>(node.get_int_or("tag_count", 10, 1, 1'000'000));
  o.interval_ms = static_cast<std::uint32_t>(node.get_int_or("interval_ms", 1000, 0, 86'400'000));
  o.max_ticks = static_cast<std::uint64_t>(node.get_int_or("max_ticks", 0, 0));
  o.seed = static_cast<std::uint64_t>(node.get_int_or("seed", 1, 0));

  const std::vector<std::string> kGenerators = {"sine", "ramp", "random_walk", "step", "counter", "bool", "string"};
  if (node.has("generators")) {
    o.generators.clear();
    for (const auto& item : node.get_list("generators")) {
      if (auto name = item.as_enum(kGenerators)) {
        Generator g{};
        parse_generator(*name, &g);
        o.generators.push_back(g);
      }
    }
  }

  std::set<std::string> names;
  for (const auto& t : node.get_list("tags")) {
    t.check_keys({"name", "generator", "unit", "signal_type", "equipment", "min", "max", "period_s", "eng_range",
                  "bad_every"});
    TagSpec spec;
    auto name = t.require_string("name");
    if (!name) continue;
    if (name->empty()) {
      t.error_at("name", "must not be empty");
      continue;
    }
    if (!names.insert(*name).second) {
      t.error_at("name", "duplicate tag name \"" + *name + "\"");
      continue;
    }
    spec.name = *name;
    std::string gen = t.get_enum("generator", kGenerators, std::string("sine"));
    parse_generator(gen, &spec.generator);
    spec.unit = t.get_string("unit", "");
    spec.signal_type = t.get_string("signal_type", "");
    spec.equipment = t.get_string("equipment", "");
    spec.min = t.get_double("min", 0.0);
    spec.max = t.get_double("max", 100.0);
    if (spec.max < spec.min) t.error_at("max", "must not be less than min");
    spec.period_s = t.get_double("period_s", 60.0);
    if (spec.period_s <= 0) t.error_at("period_s", "must be greater than 0");
    spec.bad_every = static_cast<std::uint32_t>(t.get_int_or("bad_every", 0, 0, 1'000'000));
    if (auto range = t.child("eng_range")) {
      auto items = range->items();
      if (items.size() != 2) {
        range->error("expected a list of two numbers [low, high]");
      } else {
        auto lo = items[0].as_double();
        auto hi = items[1].as_double();
        if (lo && hi) {
          if (*lo >= *hi) {
            range->error("low must be less than high");
          } else {
            spec.eng_low = lo;
            spec.eng_high = hi;
          }
        }
      }
    }
    o.tags.push_back(std::move(spec));
  }
  return out;
}

}  // namespace uc::sources::synthetic
