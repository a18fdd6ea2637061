// Sparkplug B decode and decode + host + normalize, in records (metrics) per second on
// one core. The payload is one DDATA of 100 Double metrics by alias, with datatype and
// timestamp on every metric (as Tahu's encoders write them), ~2.2 KB.
// Run: build/bench/sparkplug_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// `sparkplug_bench --write-payload FILE` writes that payload for bench/sparkplug_decode_node.js.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>

#include "core/clock.h"
#include "normalize/normalizer.h"
#include "protocols/sparkplug/payload.h"
#include "sources/mqtt/config.h"
#include "sources/mqtt/sparkplug_host.h"

namespace uc {
namespace {
namespace sp = protocols::sparkplug;

constexpr int kMetrics = 100;

std::vector<std::uint8_t> payload(bool birth, std::uint64_t seq) {
  sp::OutPayload p;
  p.timestamp = 1700000000000;
  p.seq = seq;
  if (birth) {
    sp::OutMetric bd;
    bd.name = "bdSeq";
    bd.datatype = sp::kInt64;
    bd.value_type = sp::kInt64;
    bd.value = std::int64_t{0};
    p.metrics.push_back(bd);
  }
  for (int i = 0; i < kMetrics; ++i) {
    sp::OutMetric m;
    if (birth) m.name = "line1/press/metric_" + std::to_string(i);
    m.alias = static_cast<std::uint64_t>(i + 1);
    m.timestamp = 1700000000000 + static_cast<std::uint64_t>(i);
    m.datatype = sp::kDouble;
    m.value_type = sp::kDouble;
    m.value = 20.0 + i * 0.25;
    p.metrics.push_back(std::move(m));
  }
  return sp::encode_payload(p);
}

void BM_SparkplugDecode(benchmark::State& state) {
  const auto b = payload(false, 1);
  std::size_t n = 0;
  for (auto _ : state) {
    auto p = sp::decode_payload(b.data(), b.size());
    for (const auto& m : p->metrics) {
      auto v = sp::metric_value(m, *m.datatype);
      benchmark::DoNotOptimize(v);
      ++n;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_SparkplugDecode);

// What the MQTT source does per DDATA: host state (seq, aliases, samples) + normalizer.
void BM_SparkplugHostNormalize(benchmark::State& state) {
  ManualClock clock;
  sources::mqtt::SparkplugOptions opts;
  sources::mqtt::SparkplugHost host(opts, clock);
  const auto birth = payload(true, 0);
  (void)host.handle("spBv1.0/g/NBIRTH/e", birth.data(), birth.size(), clock.now_us());
  std::vector<std::vector<std::uint8_t>> data;
  for (int s = 0; s < 256; ++s) data.push_back(payload(false, static_cast<std::uint64_t>(s)));
  normalize::Options o;
  o.defaults = {"plant1", "production", "line1", "unknown"};
  o.connector_name = "bench-edge";
  normalize::SourceInfo info{"sp", "mqtt", "mqtt://127.0.0.1:1883", {"plant1", "production", "line1", ""}, ""};
  auto n = normalize::Normalizer::create(o, info, std::make_shared<normalize::PathRegistry>());
  if (!n.is_ok()) std::abort();
  std::vector<Record> out;
  std::size_t seq = 1, records = 0;
  for (auto _ : state) {
    const auto& b = data[seq];
    seq = (seq + 1) % 256;
    auto r = host.handle("spBv1.0/g/NDATA/e", b.data(), b.size(), clock.now_us());
    out.clear();
    (*n)->normalize_batch(*r.samples, clock.now_us(), out);
    records += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  if (host.counters().seq_gaps != 0) state.SkipWithError("seq gaps");
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
}
BENCHMARK(BM_SparkplugHostNormalize);

}  // namespace
}  // namespace uc

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-payload") == 0) {
    const auto b = uc::payload(false, 1);
    std::ofstream(argv[2], std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
