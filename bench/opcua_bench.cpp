// OPC UA decode microbenchmarks: a ReadResponse and a PublishResponse (DataChangeNotification
// bodies decoded too) of 1000 Double values with status and both timestamps, from the body as
// it arrives after chunk assembly. items/s = values per second on one core.
// Run:  build/bench/opcua_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Dump the same messages for the node-opcua side (bench/opcua_decode_nodeopcua.js):
//       build/bench/opcua_bench --dump DIR
#pragma GCC diagnostic ignored "-Wnull-dereference"  // GCC 12 false positive in std::variant (see types.h)

#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>

#include "protocols/opcua/generated/types.h"
#include "protocols/opcua/transport.h"

namespace uc::opcua {
namespace {

constexpr int kValues = 1000;

DataValue value(int i) {
  DataValue v;
  v.value = Variant::scalar(20.0 + i * 0.125);
  v.status = StatusCode{i % 10 == 0 ? 0x40900000u : 0u};
  v.source_timestamp = DateTime{133'000'000'000'000'000 + i};
  v.server_timestamp = DateTime{133'000'000'000'000'000 + 2 * i};
  return v;
}

std::string read_response() {
  ReadResponse r;
  for (int i = 0; i < kValues; ++i) r.results.push_back(value(i));
  return encode_service(r);
}

std::string publish_response() {
  PublishResponse p;
  p.subscription_id = 1;
  p.available_sequence_numbers = {42};
  p.notification_message.sequence_number = 42;
  DataChangeNotification n;
  for (int i = 0; i < kValues; ++i) n.monitored_items.push_back(MonitoredItemNotification{static_cast<std::uint32_t>(i), value(i)});
  p.notification_message.notification_data.push_back(make_extension(n));
  return encode_service(p);
}

void BM_DecodeReadResponse(benchmark::State& state) {
  const std::string body = read_response();
  Limits limits;
  for (auto _ : state) {
    ReadResponse r;
    if (!decode_service(body, r, limits).is_ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kValues);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_DecodeReadResponse);

void BM_DecodePublishResponse(benchmark::State& state) {
  const std::string body = publish_response();
  Limits limits;
  for (auto _ : state) {
    PublishResponse p;
    if (!decode_service(body, p, limits).is_ok()) state.SkipWithError("decode failed");
    for (const auto& ext : p.notification_message.notification_data) {
      DataChangeNotification n;
      if (!decode_extension(ext, n, limits)) state.SkipWithError("notification decode failed");
      benchmark::DoNotOptimize(n);
    }
  }
  state.SetItemsProcessed(state.iterations() * kValues);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_DecodePublishResponse);

}  // namespace
}  // namespace uc::opcua

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--dump") == 0) {
    std::ofstream(std::string(argv[2]) + "/read_response.bin", std::ios::binary) << uc::opcua::read_response();
    std::ofstream(std::string(argv[2]) + "/publish_response.bin", std::ios::binary) << uc::opcua::publish_response();
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
