// Modbus decode microbenchmarks: register → value conversion in the four orders, a
// device's poll cycle worth of decoding (200 registers of mixed types, scaled), and
// the read planner.
// Run: build/bench/modbus_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <vector>

#include "protocols/modbus/codec.h"
#include "protocols/modbus/plan.h"

namespace uc::protocols::modbus {
namespace {

std::vector<std::uint16_t> registers(std::size_t n) {
  std::vector<std::uint16_t> r(n);
  for (std::size_t i = 0; i < n; ++i) r[i] = static_cast<std::uint16_t>(0x4000 + i * 7919);
  return r;
}

// One value per iteration; items/s = values decoded per second.
void BM_DecodeFloat32(benchmark::State& state) {
  const auto order = kAllOrders[state.range(0)];
  const auto regs = registers(2000);
  std::size_t i = 0;
  for (auto _ : state) {
    auto v = decode_registers(DataType::kFloat32, order, std::span<const std::uint16_t>(regs.data() + i, 2));
    benchmark::DoNotOptimize(v);
    i = (i + 2) % 1998;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(to_string(order));
}
BENCHMARK(BM_DecodeFloat32)->DenseRange(0, 3);

void BM_DecodeType(benchmark::State& state) {
  const auto type = static_cast<DataType>(state.range(0));
  const int length = type == DataType::kString ? 16 : 0;
  const auto width = static_cast<std::size_t>(register_width(type, length));
  const auto regs = registers(2000);
  std::size_t i = 0;
  for (auto _ : state) {
    auto v = decode_registers(type, ByteOrder::kCDAB, std::span<const std::uint16_t>(regs.data() + i, width), length);
    benchmark::DoNotOptimize(v);
    i = (i + width) % (2000 - width);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(to_string(type));
}
BENCHMARK(BM_DecodeType)->DenseRange(0, 9);

// A 200-register device: 50 float32, 25 int32, 25 uint16, 25 int16 scaled by 0.1,
// 5 float64, in mixed orders — what one poll cycle decodes.
void BM_DecodeDevice200(benchmark::State& state) {
  struct Item {
    DataType type;
    ByteOrder order;
    int address;
    double scale;
  };
  std::vector<Item> items;
  int a = 0;
  for (int k = 0; k < 50; ++k, a += 2) items.push_back({DataType::kFloat32, kAllOrders[k % 4], a, 1.0});
  for (int k = 0; k < 25; ++k, a += 2) items.push_back({DataType::kInt32, ByteOrder::kCDAB, a, 1.0});
  for (int k = 0; k < 25; ++k, a += 1) items.push_back({DataType::kUint16, ByteOrder::kABCD, a, 1.0});
  for (int k = 0; k < 25; ++k, a += 1) items.push_back({DataType::kInt16, ByteOrder::kABCD, a, 0.1});
  for (int k = 0; k < 5; ++k, a += 4) items.push_back({DataType::kFloat64, ByteOrder::kDCBA, a, 1.0});
  const auto regs = registers(static_cast<std::size_t>(a));
  std::vector<Value> out(items.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Item& it = items[i];
      auto v = decode_registers(it.type, it.order,
                                std::span<const std::uint16_t>(regs.data() + it.address,
                                                               static_cast<std::size_t>(register_width(it.type, 0))));
      out[i] = apply_scale(std::move(v).value(), it.scale, 0.0);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items.size()));
  state.counters["registers"] = a;
}
BENCHMARK(BM_DecodeDevice200);

void BM_PlanReads(benchmark::State& state) {
  std::vector<PlanItem> items;
  for (int a = 0; a < state.range(0) * 2; a += 2) items.push_back({a + (a % 20 == 0 ? 3 : 0), 2});
  for (auto _ : state) {
    auto p = plan_reads(items, kMaxReadRegisters, 10);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_PlanReads)->Arg(100)->Arg(10000);

}  // namespace
}  // namespace uc::protocols::modbus
BENCHMARK_MAIN();
