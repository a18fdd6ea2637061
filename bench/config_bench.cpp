// The cost of the guard against yaml-cpp 0.7's endless LoadAll (src/config/yaml_documents.h):
// load_documents walks the documents once with an event handler that builds nothing,
// then calls YAML::LoadAll. Side by side with YAML::LoadAll alone on the same text, and
// with YamlTree::parse (yaml_tree.h), the one walk the loader makes since issue 20.
#include <benchmark/benchmark.h>

#include <string>

#include "config/yaml_documents.h"
#include "config/yaml_tree.h"

namespace {

// A config with one Modbus source of n registers, the shape of the large files
// commands.cpp mentions.
std::string big_config(int n) {
  std::string s = "connector: {name: bench}\nsources:\n  - name: plc\n    protocol: modbus\n"
                  "    endpoint: modbus://127.0.0.1:502\n    registers:\n";
  for (int i = 0; i < n; ++i) {
    s += "      - {name: r" + std::to_string(i) + ", table: holding, address: " + std::to_string(i % 60000) +
         ", type: float32, unit: degC, scale: 0.1}\n";
  }
  return s;
}

void BM_YamlCppLoadAll(benchmark::State& state) {
  const std::string text = big_config(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(YAML::LoadAll(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_LoadDocuments(benchmark::State& state) {
  const std::string text = big_config(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(uc::config::load_documents(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

// What the loader does since issue 20: one walk that builds the compact tree.
void BM_YamlTree(benchmark::State& state) {
  const std::string text = big_config(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(uc::config::YamlTree::parse(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

}  // namespace

BENCHMARK(BM_YamlCppLoadAll)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadDocuments)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YamlTree)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
