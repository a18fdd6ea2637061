// What one Modbus device connection polls: its tags (one per register and unit) and
// its poll groups (tags sharing a poll interval), each a list of coalesced reads.
// Pure: built from the options when the source starts.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/sample.h"
#include "sources/modbus/config.h"

namespace uc::sources::modbus {

struct Tag {
  const Register* reg = nullptr;  // points into the source's Options
  int unit = 0;
  std::string address;  // "unit/table/address", the address as configured
  std::shared_ptr<const TagMeta> meta;
};

struct PlannedRead {
  int unit = 0;
  Table table = Table::kHolding;
  int start = 0;  // protocol address
  int count = 0;
  std::vector<std::size_t> tags;  // indices into DevicePlan::tags
};

struct PollGroup {
  int interval_ms = 1000;
  std::vector<PlannedRead> reads;  // by unit, table, address
};

struct DevicePlan {
  std::vector<Tag> tags;
  std::vector<PollGroup> groups;  // by interval
  std::size_t read_count() const;
};

// A register without unit_id applies to every unit of the source; when there are
// several, its tag name (and name_path) get the suffix "_u<unit>" so they stay apart.
DevicePlan make_device_plan(const Options& options);

}  // namespace uc::sources::modbus
