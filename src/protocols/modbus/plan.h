// Read coalescing (sans-IO): the registers of one unit and table become as few read
// requests as possible, each at most `max_count` addresses long (the protocol allows
// 125 registers or 2000 bits) and bridging holes of at most `max_gap` unused
// addresses. Reading a hole costs a few bytes; a request costs a round trip.
//
// The greedy plan (sort by address, extend the current request while the next item
// fits) is optimal: a request covers a run of consecutive items in address order,
// and taking the longest feasible first run never forces more requests later.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "protocols/modbus/types.h"

namespace uc::protocols::modbus {

struct PlanItem {
  int address = 0;  // protocol (0-based) address of the first register or bit
  int width = 1;    // registers or bits
};

struct ReadRequest {
  int start = 0;
  int count = 0;
  std::vector<std::size_t> items;  // indices into the planned items, in address order
};

// Every item lands in exactly one request; requests come in address order. An item
// wider than max_count gets a request of its own width (callers validate widths).
// Overlapping items share a request when they fit.
std::vector<ReadRequest> plan_reads(std::span<const PlanItem> items, int max_count, int max_gap);

}  // namespace uc::protocols::modbus
