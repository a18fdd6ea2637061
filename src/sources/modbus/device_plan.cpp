#include "sources/modbus/device_plan.h"

#include <map>
#include <tuple>

#include "protocols/modbus/plan.h"

namespace uc::sources::modbus {

std::size_t DevicePlan::read_count() const {
  std::size_t n = 0;
  for (const auto& g : groups) n += g.reads.size();
  return n;
}

DevicePlan make_device_plan(const Options& options) {
  DevicePlan plan;
  for (const Register& r : options.registers) {
    std::vector<int> units;
    if (r.unit_id) {
      units.push_back(*r.unit_id);
    } else {
      units = options.unit_ids;
    }
    for (const int unit : units) {
      auto meta = std::make_shared<TagMeta>();
      meta->tag_name = units.size() > 1 ? r.name + "_u" + std::to_string(unit) : r.name;
      meta->name_path = meta->tag_name;
      meta->unit = r.unit;
      meta->data_type = to_string(r.type);
      Tag t;
      t.reg = &r;
      t.unit = unit;
      t.address = std::to_string(unit) + "/" + to_string(r.table) + "/" + std::to_string(r.configured_address);
      t.meta = std::move(meta);
      plan.tags.push_back(std::move(t));
    }
  }
  // (interval, unit, table) → tag indices; std::map keeps the documented order.
  std::map<std::tuple<int, int, Table>, std::vector<std::size_t>> buckets;
  for (std::size_t i = 0; i < plan.tags.size(); ++i) {
    const Tag& t = plan.tags[i];
    buckets[{t.reg->poll_interval_ms > 0 ? t.reg->poll_interval_ms : options.poll_interval_ms, t.unit, t.reg->table}]
        .push_back(i);
  }
  for (const auto& [key, indices] : buckets) {
    const auto& [interval, unit, table] = key;
    if (plan.groups.empty() || plan.groups.back().interval_ms != interval) plan.groups.push_back({interval, {}});
    std::vector<protocols::modbus::PlanItem> items;
    items.reserve(indices.size());
    for (const std::size_t i : indices) {
      const Register& r = *plan.tags[i].reg;
      items.push_back({r.address, register_width(r.type, r.length)});
    }
    const bool bits = protocols::modbus::is_bit_table(table);
    const int max_count = bits ? options.max_bits_per_request : options.max_registers_per_request;
    for (auto& req : protocols::modbus::plan_reads(items, max_count, options.max_gap)) {
      PlannedRead read{unit, table, req.start, req.count, {}};
      for (const std::size_t k : req.items) read.tags.push_back(indices[k]);
      plan.groups.back().reads.push_back(std::move(read));
    }
  }
  return plan;
}

}  // namespace uc::sources::modbus
