// Hot-path microbenchmarks: normalize, batch (the target queue), encode.
// Run: build/bench/pipeline_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "core/record_codec.h"
#include "normalize/normalizer.h"
#include "pipeline/latest_values.h"
#include "pipeline/queue.h"
#include "sources/synthetic/generator.h"

namespace uc {
namespace {

constexpr std::size_t kBatch = 1000;

std::unique_ptr<normalize::Normalizer> make_normalizer() {
  normalize::Options o;
  o.defaults = {"plant1", "production", "line1", "unknown"};
  o.connector_name = "bench-edge";
  o.rules.push_back({"", "", normalize::RuleField::kAddress, "^(?P<equipment>[a-z]+)_"});
  normalize::SourceInfo info{"bench", "synthetic", "synthetic://bench", {"plant1", "production", "line1", ""}, ""};
  auto n = normalize::Normalizer::create(o, info, std::make_shared<normalize::PathRegistry>());
  if (!n.is_ok()) std::abort();
  return std::move(n).value();
}

// Samples of `tags` distinct tags (numeric, bool, string mix), one batch.
SampleBatch make_samples(std::size_t tags) {
  sources::synthetic::Options o;
  o.tag_count = static_cast<std::uint32_t>(tags);
  sources::synthetic::SignalGenerator g(o.effective_tags(), 1000, 1);
  SampleBatch b;
  g.tick(1'700'000'000'000'000, b);
  return b;
}

void BM_Normalize(benchmark::State& state) {
  auto n = make_normalizer();
  SampleBatch samples = make_samples(kBatch);
  std::vector<Record> out;
  out.reserve(kBatch);
  for (auto _ : state) {
    out.clear();
    n->normalize_batch(samples, 1'700'000'000'000'000, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_Normalize);

void BM_EncodeProto(benchmark::State& state) {
  auto n = make_normalizer();
  std::vector<Record> records;
  n->normalize_batch(make_samples(kBatch), 1, records);
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    for (const auto& r : records) append_record_proto(buf, r);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_EncodeProto);

void BM_EncodeJson(benchmark::State& state) {
  auto n = make_normalizer();
  std::vector<Record> records;
  n->normalize_batch(make_samples(kBatch), 1, records);
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    for (const auto& r : records) {
      append_record_json(buf, r);
      buf += '\n';
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_EncodeJson);

// The whole in-process hot path on one thread: normalize a batch of samples, route it
// into the target's bounded queue, take a batch out (batcher) and encode it as the
// Zerobus sink would (protobuf) or the file sink does (JSON).
template <bool kProto>
void BM_NormalizeQueueBatchEncode(benchmark::State& state) {
  auto n = make_normalizer();
  SampleBatch samples = make_samples(kBatch);
  pipeline::RecordQueue queue(50'000, pipeline::DropPolicy::kBlock);
  pipeline::BatchLimits limits;
  limits.max_records = kBatch;
  limits.linger = std::chrono::microseconds(0);
  std::vector<Record> records, batch;
  std::vector<pipeline::AckSpan> acks;
  std::string buf;
  for (auto _ : state) {
    records.clear();
    records.reserve(kBatch);
    n->normalize_batch(samples, 1'700'000'000'000'000, records);
    auto ack = std::make_shared<pipeline::AckState>(records.size(), nullptr);
    queue.push(std::move(records), ack);
    batch.clear();
    acks.clear();
    queue.pop_batch(limits, std::chrono::microseconds(0), batch, acks);
    buf.clear();
    for (const auto& r : batch) {
      if constexpr (kProto) {
        append_record_proto(buf, r);
      } else {
        append_record_json(buf, r);
        buf += '\n';
      }
    }
    for (auto& s : acks) s.ack->resolve(s.count, 0, 0);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_NormalizeQueueBatchEncode<true>)->Name("BM_NormalizeQueueBatchEncode/proto");
BENCHMARK(BM_NormalizeQueueBatchEncode<false>)->Name("BM_NormalizeQueueBatchEncode/json");

// First sight of every tag: rules, sanitizing, signal-type inference, collision check.
void BM_NormalizeColdTags(benchmark::State& state) {
  SampleBatch samples = make_samples(kBatch);
  std::vector<Record> out;
  for (auto _ : state) {
    state.PauseTiming();
    auto n = make_normalizer();
    out.clear();
    state.ResumeTiming();
    n->normalize_batch(samples, 1, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_NormalizeColdTags);

// OPC UA-like samples: a NodeId address, a Double, a Good status and the per-sample
// "opcua_server_time_us" metadata entry the OPC UA source adds.
SampleBatch make_opcua_samples(std::size_t n) {
  SampleBatch b;
  b.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Sample s;
    s.address = "ns=1;s=Plant.Site" + std::to_string(i % 7) + ".Line" + std::to_string(i % 11) + ".Pump" +
                std::to_string(i) + ".Temperature";
    s.value = 20.0 + static_cast<double>(i) / 7.0;
    s.source_time = 1'700'000'000'000'000;
    s.receive_time = 1'700'000'000'100'000;
    s.status = {ProtocolStatus::Kind::kOpcUa, 0, ""};
    s.metadata.emplace_back("opcua_server_time_us", std::to_string(1'700'000'000'050'000 + i));
    b.push_back(std::move(s));
  }
  return b;
}

// What SourceRunner::publish does since the batch is its own: the samples' metadata is
// moved into the records. Compare with BM_NormalizeOpcuaCopied (the const& overload).
void BM_NormalizeOpcuaMoved(benchmark::State& state) {
  auto n = make_normalizer();
  const SampleBatch samples = make_opcua_samples(kBatch);
  std::vector<Record> out;
  for (auto _ : state) {
    state.PauseTiming();
    SampleBatch batch = samples;
    out.clear();
    out.reserve(kBatch);
    state.ResumeTiming();
    n->normalize_batch(std::move(batch), 1, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_NormalizeOpcuaMoved);

void BM_NormalizeOpcuaCopied(benchmark::State& state) {
  auto n = make_normalizer();
  const SampleBatch samples = make_opcua_samples(kBatch);
  std::vector<Record> out;
  for (auto _ : state) {
    state.PauseTiming();
    SampleBatch batch = samples;
    out.clear();
    out.reserve(kBatch);
    state.ResumeTiming();
    n->normalize_batch(batch, 1, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_NormalizeOpcuaCopied);

// The spool delivery path: decode spooled protobuf records (tags already interned, as in
// steady state) and encode them as JSON Lines for the file sink.
void BM_DecodeProtoThenJson(benchmark::State& state) {
  auto n = make_normalizer();
  std::vector<Record> records;
  n->normalize_batch(make_opcua_samples(kBatch), 1, records);
  std::string wire;
  std::vector<std::string_view> views;
  encode_proto_payloads(records, wire, views);
  RecordDecoder dec;
  std::vector<Record> decoded(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) (void)dec.decode(views[i], decoded[i]);  // warm the tag cache
  std::string json;
  const bool with_json = state.range(0) != 0;
  for (auto _ : state) {
    json.clear();
    for (std::size_t i = 0; i < kBatch; ++i) {
      if (!dec.decode(views[i], decoded[i]).is_ok()) std::abort();
      if (with_json) {
        append_record_json(json, decoded[i]);
        json += '\n';
      }
    }
    benchmark::DoNotOptimize(json.data());
    benchmark::DoNotOptimize(decoded.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_DecodeProtoThenJson)->Arg(0)->Arg(1)->ArgName("json");

// The latest-value table's update on the data path (steady state: every tag known), per
// record: the Writer's pointer lookup, one slot lock, the value copied. Arg: distinct tags
// (1,000 fit in cache; 100,000 do not).
void BM_LatestValuesUpdate(benchmark::State& state) {
  const auto tags = static_cast<std::size_t>(state.range(0));
  auto n = make_normalizer();
  std::vector<std::vector<Record>> batches;
  for (std::size_t done = 0; done < tags; done += kBatch) {
    batches.emplace_back();
    SampleBatch samples = make_samples(tags);
    SampleBatch part(std::make_move_iterator(samples.begin() + static_cast<std::ptrdiff_t>(done)),
                     std::make_move_iterator(samples.begin() + static_cast<std::ptrdiff_t>(std::min(tags, done + kBatch))));
    n->normalize_batch(std::move(part), 1'700'000'000'000'000, batches.back());
  }
  pipeline::LatestValues table;
  pipeline::LatestValues::Writer writer(table);
  for (const auto& b : batches) writer.update(b);  // first sight of every tag, not measured
  std::size_t i = 0;
  for (auto _ : state) {
    writer.update(batches[i]);
    i = (i + 1) % batches.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_LatestValuesUpdate)->Arg(1000)->Arg(100000);

// GET /api/tags's read: one page of 100 out of 100,000 paths with a glob that matches a
// tenth of them (it walks the whole index).
void BM_LatestValuesList(benchmark::State& state) {
  auto n = make_normalizer();
  pipeline::LatestValues table;
  pipeline::LatestValues::Writer writer(table);
  constexpr std::size_t kTags = 100'000;
  SampleBatch samples = make_samples(kTags);
  std::vector<Record> records;
  n->normalize_batch(std::move(samples), 1'700'000'000'000'000, records);
  writer.update(records);
  pipeline::LatestValues::Query q;
  q.glob = "**/*_1?";
  q.limit = 100;
  for (auto _ : state) benchmark::DoNotOptimize(table.list(q).total);
}
BENCHMARK(BM_LatestValuesList)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace uc

BENCHMARK_MAIN();
