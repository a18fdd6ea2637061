#include "protocols/modbus/plan.h"

#include <algorithm>
#include <numeric>

namespace uc::protocols::modbus {

std::vector<ReadRequest> plan_reads(std::span<const PlanItem> items, int max_count, int max_gap) {
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return items[a].address < items[b].address; });
  max_gap = std::max(0, max_gap);
  std::vector<ReadRequest> out;
  int end = 0;  // one past the last address of the current request
  for (const std::size_t i : order) {
    const PlanItem& it = items[i];
    const int width = std::max(1, it.width);
    const int item_end = it.address + width;
    if (!out.empty()) {
      ReadRequest& cur = out.back();
      const int new_end = std::max(end, item_end);
      if (it.address - end <= max_gap && new_end - cur.start <= max_count) {
        end = new_end;
        cur.count = end - cur.start;
        cur.items.push_back(i);
        continue;
      }
    }
    out.push_back(ReadRequest{it.address, width, {i}});
    end = item_end;
  }
  return out;
}

}  // namespace uc::protocols::modbus
