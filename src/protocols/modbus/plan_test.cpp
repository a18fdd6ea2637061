#include "protocols/modbus/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace uc::protocols::modbus {
namespace {

using ::testing::ElementsAre;

std::vector<std::pair<int, int>> spans(const std::vector<ReadRequest>& reqs) {
  std::vector<std::pair<int, int>> out;
  for (const auto& r : reqs) out.emplace_back(r.start, r.count);
  return out;
}

TEST(ModbusPlan, AdjacentRegistersBecomeOneRequest) {
  std::vector<PlanItem> items;
  for (int a = 0; a < 200; a += 2) items.push_back({a, 2});  // 100 float32 in 200 registers
  const auto reqs = plan_reads(items, kMaxReadRegisters, 0);
  EXPECT_THAT(spans(reqs), ElementsAre(std::pair(0, 124), std::pair(124, 76)));  // 2 requests, not 100
  EXPECT_EQ(reqs[0].items.size(), 62u);
  EXPECT_EQ(reqs[1].items.size(), 38u);
}

TEST(ModbusPlan, MaxGapBridgesSmallHolesOnly) {
  const std::vector<PlanItem> items = {{0, 1}, {5, 1}, {20, 2}, {11, 1}};
  EXPECT_THAT(spans(plan_reads(items, kMaxReadRegisters, 0)),
              ElementsAre(std::pair(0, 1), std::pair(5, 1), std::pair(11, 1), std::pair(20, 2)));
  EXPECT_THAT(spans(plan_reads(items, kMaxReadRegisters, 5)), ElementsAre(std::pair(0, 12), std::pair(20, 2)));
  EXPECT_THAT(spans(plan_reads(items, kMaxReadRegisters, 8)), ElementsAre(std::pair(0, 22)));
  // Item indices refer to the input, in address order.
  EXPECT_THAT(plan_reads(items, kMaxReadRegisters, 8)[0].items, ElementsAre(0u, 1u, 3u, 2u));
}

TEST(ModbusPlan, NeverExceedsTheProtocolMaximum) {
  std::vector<PlanItem> items;
  for (int a = 0; a < 5000; ++a) items.push_back({a, 1});
  const auto bits = plan_reads(items, kMaxReadBits, 10);
  EXPECT_THAT(spans(bits), ElementsAre(std::pair(0, 2000), std::pair(2000, 2000), std::pair(4000, 1000)));
  const auto regs = plan_reads(items, kMaxReadRegisters, 10);
  EXPECT_EQ(regs.size(), 40u);  // ceil(5000 / 125)
  for (const auto& r : regs) EXPECT_LE(r.count, kMaxReadRegisters);
  // A value never straddles two requests: 62 float32 fill 124 registers, the 63rd starts a new one.
  std::vector<PlanItem> f;
  for (int a = 0; a < 130; a += 2) f.push_back({a, 2});
  EXPECT_THAT(spans(plan_reads(f, kMaxReadRegisters, 0)), ElementsAre(std::pair(0, 124), std::pair(124, 6)));
}

TEST(ModbusPlan, EdgeCases) {
  EXPECT_TRUE(plan_reads({}, kMaxReadRegisters, 0).empty());
  // Wider than the maximum: a request of its own.
  const std::vector<PlanItem> wide = {{0, 1}, {1, 10}, {11, 1}};
  EXPECT_THAT(spans(plan_reads(wide, 4, 0)), ElementsAre(std::pair(0, 1), std::pair(1, 10), std::pair(11, 1)));
  // Overlapping items share.
  const std::vector<PlanItem> overlap = {{0, 4}, {2, 2}, {3, 4}};
  EXPECT_THAT(spans(plan_reads(overlap, kMaxReadRegisters, 0)), ElementsAre(std::pair(0, 7)));
  // The last address of the table.
  const std::vector<PlanItem> top = {{65534, 2}};
  EXPECT_THAT(spans(plan_reads(top, kMaxReadRegisters, 0)), ElementsAre(std::pair(65534, 2)));
}

}  // namespace
}  // namespace uc::protocols::modbus
